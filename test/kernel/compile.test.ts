import { test } from "node:test";
import assert from "node:assert/strict";
import { compileCell, endsWithSemicolon } from "../../kernel/compile.ts";

test("types, interfaces, generics and satisfies are erased; enums become values", async () => {
  const c = await compileCell(
    "interface P { a: number }\nenum Color { Red, Green }\nfunction id<T>(x: T): T { return x }\nconst p = { a: 1 } satisfies P;\nid<number>(Color.Green)",
  );
  assert.doesNotMatch(c.js, /interface|satisfies|<number>/);
  assert.equal(c.hasResult, true);
  assert.deepEqual(c.defines.sort(), ["Color", "id", "p"]);
  assert.ok(c.map, "esbuild's source map is kept for stack traces");
});

test("imports become awaited calls on the same lines; import type is erased", async () => {
  const src = [
    'import type { T } from "a";',
    'import d, { x, y as z } from "b";',
    'import * as ns from "c";',
    'import "d";',
    "const m = await import('e');",
    "x + z",
  ].join("\n");
  const c = await compileCell(src);
  const lines = c.js.split("\n");
  assert.doesNotMatch(c.js, /from "a"|import /);
  const line = (needle: string) => lines.findIndex((l) => l.includes(needle));
  assert.ok(line('tsnb$i("b"') < line('tsnb$i("c"') && line('tsnb$i("c"') < line('tsnb$i("d"'));
  // The second argument is the statement's column (where a failing import is reported).
  assert.match(c.js, /const \{ default: d, x, y: z \} = await tsnb\$i\("b", 0\);/);
  assert.match(c.js, /const ns = await tsnb\$i\("c", 0\);/);
  assert.match(c.js, /tsnb\$i\(["']e["']\)/);
  assert.deepEqual(c.defines.sort(), ["d", "m", "ns", "x", "z"]);
});

test("a trailing semicolon hides the result, like Jupyter; declarations have none", async () => {
  assert.equal((await compileCell("1 + 1")).hasResult, true);
  assert.equal((await compileCell("1 + 1;")).hasResult, false);
  assert.equal((await compileCell("1 + 1; // done")).hasResult, false);
  assert.equal((await compileCell("f('a;') // comment; with semicolon")).hasResult, true);
  assert.equal((await compileCell("const x = 1")).hasResult, false);
  assert.equal((await compileCell("x = { a: 1 } /* note */")).hasResult, true);
  assert.equal(endsWithSemicolon("a;\n/* x */\n// y\n"), true);
  assert.equal(endsWithSemicolon("'http://x'"), false);
});

test("defines are top-level names only; uses are free names, respecting scopes", async () => {
  const c = await compileCell(
    [
      "const total = items.reduce((acc, it) => acc + it.price * rate, 0);",
      "function f(a: number) { const local = a + offset; return local }",
      "class K extends Base { m() { return helper(this) } }",
      "for (let i = 0; i < n; i++) { try { g(i) } catch (e) { log(e) } }",
      "let { p, q: [r] } = obj;",
    ].join("\n"),
  );
  assert.deepEqual(c.defines.sort(), ["K", "f", "p", "r", "total"]);
  assert.deepEqual(c.uses.sort(), [
    "Base",
    "g",
    "helper",
    "items",
    "log",
    "n",
    "obj",
    "offset",
    "rate",
  ]);
});

test("a syntax error reports its line and column in the cell", async () => {
  await assert.rejects(
    compileCell("const a = 1;\nlet b: number = ;"),
    (err: Error & { line: number; column: number }) => {
      assert.equal(err.name, "SyntaxError");
      assert.equal(err.line, 2);
      assert.equal(err.column, 16);
      return true;
    },
  );
});
