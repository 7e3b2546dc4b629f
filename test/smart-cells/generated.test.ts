// Every generated source type-checks with tsc against the `tsnb` types and runs in a real kernel:
// notebooks of a few ordinary cells and smart cells (attrs + the code they generate) are written
// out, checked by tsc (the cells of a notebook as one module, their imports merged, as the
// kernel's shared scope sees them) and run with `tsnb run`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportNotebook } from "../../core/format/index.ts";
import type { Cell } from "../../core/notebook.ts";
import { definitionOf, generate, parseAttrs } from "../../smart-cells/index.ts";
import { root } from "./helpers.ts";

type Spec = { code: string } | { kind: string; attrs: Record<string, unknown> };

export const NOTEBOOKS: Record<string, Spec[]> = {
  chart: [
    {
      code: 'import { datasets } from "tsnb";\nconst penguins = await datasets.penguins();\nconst cars = await datasets.cars();',
    },
    {
      kind: "chart",
      attrs: { data: "penguins", x: "beak_length_mm", y: "body_mass_g", color: "species" },
    },
    {
      kind: "chart",
      attrs: {
        version: 1,
        title: 'Cars "by origin"',
        width: 400,
        height: 200,
        layers: [
          {
            data: "cars",
            mark: "bar",
            x: { field: "Origin", type: "nominal" },
            y: { field: "__count__" },
          },
          {
            data: "cars",
            mark: "rule",
            y: { field: "Horsepower", aggregate: "mean", type: "quantitative" },
          },
        ],
      },
    },
    {
      kind: "chart",
      attrs: {
        data: "penguins",
        mark: "arc",
        theta: { field: "__count__" },
        color: { field: "island" },
      },
    },
  ],
  "chart-tensor": [
    {
      code: 'import { datasets } from "tsnb";\nconst penguinRows = datasets.dropMissing(await datasets.penguins(), ["beak_length_mm", "body_mass_g"]);\nconst measures = datasets.recordsToTensor(penguinRows, ["beak_length_mm", "body_mass_g"]);',
    },
    {
      kind: "chart",
      attrs: {
        version: 1,
        title: null,
        width: null,
        height: null,
        layers: [
          {
            data: "measures",
            columns: "beak, mass",
            mark: "point",
            x: { field: "beak", type: "quantitative" },
            y: { field: "mass", type: "quantitative", scale: "log" },
          },
        ],
      },
    },
  ],
  train: [
    {
      kind: "train",
      attrs: { version: 1, source: "penguins", epochs: 3, earlyStopping: true, patience: 2 },
    },
    {
      code: 'import * as nx from "tsnb/nx";\nconst xs = nx.random.normal([64, 3], { seed: 1 });\nconst ys = nx.sum(xs, { axes: [1], keepDims: true });',
    },
    {
      kind: "train",
      attrs: {
        version: 1,
        source: "bindings",
        x: "xs",
        y: "ys",
        validation: "none",
        hidden: [{ units: 8, activation: "tanh", dropout: 0.1 }],
        outputUnits: 1,
        loss: "mse",
        optimizer: "sgd",
        learningRate: 0.05,
        epochs: 2,
        metrics: { accuracy: false, mae: true },
        modelName: "regressor",
        historyName: "fitted",
      },
    },
    {
      kind: "train",
      attrs: {
        version: 1,
        source: "digits",
        model: "build",
        hidden: [],
        epochs: 1,
        batchSize: 64,
        modelName: "digitModel",
        historyName: "digitHistory",
      },
    },
  ],
  onnx: [
    {
      // A model trained and exported by tsnb with its labels, feature names and standardiser.
      code: [
        'import { datasets, nn, train } from "tsnb";',
        'const columns = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];',
        "const rows = datasets.dropMissing(await datasets.penguins(), columns);",
        "const raw = datasets.recordsToTensor(rows, columns);",
        "const scaler = datasets.fitStandardizer(raw);",
        "const species = datasets.labelEncode(rows.map((r) => r.species));",
        'const net = nn.sequential([nn.dense(16, { activation: "relu" }), nn.dense(3)], { seed: 0 });',
        'await train.fit(net, scaler.transform(raw), species.indices, { loss: "categoricalCrossEntropy", optimizer: "adam", epochs: 30, batchSize: 32, seed: 0, verbose: false });',
        'train.saveOnnx(net, "penguins.onnx", { labels: species.classes.map(String), features: columns, standardizer: scaler });',
      ].join("\n"),
    },
    {
      kind: "onnx-model",
      attrs: {
        version: 1,
        model: "penguins.onnx",
        name: "penguinModel",
        task: "classify",
        features: [
          { name: "beak_length_mm", default: 43.92 },
          { name: "beak_depth_mm", default: 17.15 },
          { name: "flipper_length_mm", default: 200.9 },
          { name: "body_mass_g", default: 4202 },
        ],
      },
    },
    {
      // What the app's submit does, with a Gentoo's measurements (the listener does not fire in tsnb run).
      code: [
        "const gentoo = await penguinModel.classify({ beak_length_mm: 47.3, beak_depth_mm: 13.8, flipper_length_mm: 216, body_mass_g: 4725 });",
        'console.log("classified:", String(gentoo));',
      ].join("\n"),
    },
    {
      kind: "onnx-model",
      attrs: { version: 1, model: "package:silero-vad", name: "silero", task: "vad" },
    },
    {
      code: [
        'import { audio, vad } from "tsnb";',
        `const speech = audio.readWav(${JSON.stringify(join(root, "data/speech.wav"))});`,
        "const found = await vad.detectSpeech(speech, { model: silero, threshold: 0.5 });",
        'console.log("segments:", found.length);',
        "vad.speechChart(speech, found);",
      ].join("\n"),
    },
    {
      code: 'import * as nx from "tsnb/nx";\nconst someRows = nx.tensor([[39.1, 18.7, 181, 3750]]);',
    },
    {
      kind: "onnx-model",
      attrs: {
        version: 1,
        model: "penguins.onnx",
        name: "again",
        task: "tensors",
        feeds: [{ input: "input", binding: "someRows" }],
      },
    },
  ],
};

function cellsOf(specs: Spec[]): Cell[] {
  return specs.map((s, i): Cell => {
    if ("code" in s) return { type: "code", id: `c${i}`, source: s.code };
    const def = definitionOf(s.kind)!;
    const parsed = parseAttrs(def, s.attrs);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
    const source = generate(def, parsed.attrs).source;
    assert.notEqual(source, "", `${s.kind} generated code for ${JSON.stringify(s.attrs)}`);
    return { type: "smart", id: `c${i}`, kind: s.kind, attrs: parsed.attrs, source };
  });
}

/** The notebook's cells as one module: imports merged per module, then the code in order. */
function asModule(cells: Cell[]): string {
  const imports = new Map<string, Set<string>>();
  const body: string[] = [];
  for (const c of cells) {
    const rest = c.source.replace(
      /^import (\* as (\w+)|\{([^}]*)\}) from "([^"]+)";\n?/gm,
      (_m, _a, star, names, from) => {
        const set = imports.get(from) ?? new Set<string>();
        if (star) set.add(`* as ${star}`);
        else for (const n of (names as string).split(",")) if (n.trim()) set.add(n.trim());
        imports.set(from, set);
        return "";
      },
    );
    body.push(rest);
  }
  const head = [...imports].flatMap(([from, names]) => {
    const stars = [...names].filter((n) => n.startsWith("* as "));
    const plain = [...names].filter((n) => !n.startsWith("* as "));
    return [
      ...stars.map((s) => `import ${s} from "${from}";`),
      ...(plain.length ? [`import { ${plain.join(", ")} } from "${from}";`] : []),
    ];
  });
  return [...head, "export {};", ...body].join("\n");
}

const dir = mkdtempSync(join(tmpdir(), "tsnb-smart-gen-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("generated sources type-check against the tsnb types", () => {
  const files: string[] = [];
  for (const [name, specs] of Object.entries(NOTEBOOKS)) {
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, asModule(cellsOf(specs)));
    files.push(file);
  }
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        lib: ["ES2023", "DOM"],
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        paths: {
          tsnb: [join(root, "stdlib/index.ts")],
          "tsnb/nx": [join(root, "tensor/index.ts")],
        },
      },
      files,
    }),
  );
  const r = spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`);
});

test("notebooks of generated smart cells run with tsnb run", { timeout: 300_000 }, () => {
  for (const [name, specs] of Object.entries(NOTEBOOKS)) {
    const file = join(dir, `${name}.tsnb`);
    writeFileSync(
      file,
      exportNotebook({
        title: name,
        metadata: { version: 1 },
        sections: [{ id: "s", title: "", cells: cellsOf(specs) }],
      }),
    );
    const r = spawnSync(process.execPath, [join(root, "bin/tsnb.js"), "run", file], {
      encoding: "utf8",
      cwd: dir,
    });
    assert.equal(r.status, 0, `tsnb run ${name}:\n${r.stdout}\n${r.stderr}`);
    if (name === "train") assert.match(r.stdout, /val_loss|loss/);
    if (name === "onnx") {
      assert.match(
        r.stdout,
        /classified: Gentoo \(Adelie [\d.]+%, Chinstrap [\d.]+%, Gentoo 9\d\.\d%\)/,
      );
      // data/speech.wav has two sentences (data/README.md).
      assert.match(r.stdout, /segments: 2\b/);
    }
  }
});
