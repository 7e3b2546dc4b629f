// A Chart smart cell from a Livebook notebook not in this repository (test/fixtures/smart-cells):
// its attrs, as kino_vega_lite saved them, open as tsnb's chart form and generate code whose
// spec is the one Livebook rendered from them (its persisted output), but for the schema version.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chart } from "../../smart-cells/chart.ts";
import { generate, parseAttrs } from "../../smart-cells/index.ts";
import { root } from "./helpers.ts";

const fixture = JSON.parse(
  readFileSync(join(root, "test/fixtures/smart-cells/livebook-chart-cell.json"), "utf8"),
) as { attrs: unknown; livebookOutput: Record<string, unknown> & { data: { values: unknown[] } } };

test("a Livebook chart cell's attrs give the chart Livebook drew", () => {
  const parsed = parseAttrs(chart, fixture.attrs);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const [code] = generate(chart, parsed.attrs).chunks;
  assert.ok(code);
  // Run the generated code (it is plain JavaScript but for the import) with Livebook's data.
  const specs: unknown[] = [];
  const body = code.replace(/^import .*\n/m, "");
  new Function("display", "results", body)(
    { vegaLite: (spec: unknown) => specs.push(spec) },
    fixture.livebookOutput.data.values,
  );
  assert.equal(specs.length, 1);
  const { $schema: ours, ...spec } = specs[0] as Record<string, unknown>;
  const { $schema: theirs, ...expected } = fixture.livebookOutput;
  assert.match(String(ours), /vega-lite\/v6\.json$/);
  assert.match(String(theirs), /vega-lite\/v5\.json$/);
  assert.deepEqual(spec, expected);
});
