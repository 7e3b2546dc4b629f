/**
 * Name analysis of one cell (after transpiling): the top-level names it defines and the free
 * names it uses, for the app's stale tracking.
 *
 * `defines`: names bound at the cell's top level (var/let/const/class/function, import
 * bindings). `uses`: identifiers read or assigned somewhere in the cell that no scope of the cell
 * declares — names from other cells and globals alike (`Math`, `console`); the server intersects
 * them with what other cells define. Scoping follows JavaScript: function scopes (params, `var`,
 * hoisted functions, `arguments`), block scopes (let/const/class), catch parameters, loop heads.
 */

import type * as acorn from "acorn";

type AnyNode = acorn.Node & Record<string, any>;

interface Scope {
  names: Set<string>;
  parent: Scope | null;
}

export function analyzeNames(program: acorn.Program): { defines: string[]; uses: string[] } {
  const top: Scope = { names: new Set(), parent: null };
  const uses = new Set<string>();

  const lookup = (scope: Scope | null, name: string): boolean => {
    for (let s = scope; s; s = s.parent) if (s.names.has(name)) return true;
    return false;
  };

  /** Names bound by a pattern (declaration target). */
  const boundNames = (p: AnyNode | null | undefined, out: string[] = []): string[] => {
    if (!p) return out;
    switch (p.type) {
      case "Identifier":
        out.push(p.name);
        break;
      case "ObjectPattern":
        for (const prop of p.properties)
          boundNames(prop.type === "RestElement" ? prop.argument : prop.value, out);
        break;
      case "ArrayPattern":
        for (const el of p.elements) boundNames(el, out);
        break;
      case "AssignmentPattern":
        boundNames(p.left, out);
        break;
      case "RestElement":
        boundNames(p.argument, out);
        break;
    }
    return out;
  };

  /** let/const/class/function declared directly in a statement list. */
  const declareLexical = (body: AnyNode[], scope: Scope) => {
    for (const st of body) {
      const s =
        st.type === "ExportNamedDeclaration" || st.type === "ExportDefaultDeclaration"
          ? st.declaration
          : st;
      if (!s) continue;
      if (s.type === "VariableDeclaration" && s.kind !== "var") {
        for (const d of s.declarations) for (const n of boundNames(d.id)) scope.names.add(n);
      } else if ((s.type === "ClassDeclaration" || s.type === "FunctionDeclaration") && s.id) {
        scope.names.add(s.id.name);
      } else if (s.type === "ImportDeclaration") {
        for (const spec of s.specifiers) scope.names.add(spec.local.name);
      }
    }
  };

  /** `var` declarations anywhere in a function body (not in nested functions). */
  const declareVars = (node: AnyNode | AnyNode[] | null | undefined, scope: Scope): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const n of node) declareVars(n, scope);
      return;
    }
    if (typeof node.type !== "string") return;
    if (node.type === "VariableDeclaration" && node.kind === "var") {
      for (const d of node.declarations) for (const n of boundNames(d.id)) scope.names.add(n);
    }
    if (
      node.type === "FunctionDeclaration" ||
      node.type === "FunctionExpression" ||
      node.type === "ArrowFunctionExpression" ||
      node.type === "ClassDeclaration" ||
      node.type === "ClassExpression"
    ) {
      return;
    }
    for (const key of STATEMENT_KEYS) if (node[key]) declareVars(node[key], scope);
  };

  const visitPatternBinding = (p: AnyNode | null | undefined, scope: Scope): void => {
    // Declaration targets: only default values and computed keys contain references.
    if (!p) return;
    switch (p.type) {
      case "ObjectPattern":
        for (const prop of p.properties) {
          if (prop.type === "RestElement") visitPatternBinding(prop.argument, scope);
          else {
            if (prop.computed) visit(prop.key, scope);
            visitPatternBinding(prop.value, scope);
          }
        }
        break;
      case "ArrayPattern":
        for (const el of p.elements) visitPatternBinding(el, scope);
        break;
      case "AssignmentPattern":
        visitPatternBinding(p.left, scope);
        visit(p.right, scope);
        break;
      case "RestElement":
        visitPatternBinding(p.argument, scope);
        break;
    }
  };

  const visitFunction = (fn: AnyNode, scope: Scope): void => {
    const fscope: Scope = { names: new Set(), parent: scope };
    if (fn.type === "FunctionExpression" && fn.id) fscope.names.add(fn.id.name);
    if (fn.type !== "ArrowFunctionExpression") fscope.names.add("arguments");
    for (const p of fn.params) for (const n of boundNames(p)) fscope.names.add(n);
    if (fn.body.type === "BlockStatement") {
      declareVars(fn.body.body, fscope);
      declareLexical(fn.body.body, fscope);
    }
    for (const p of fn.params) visitPatternBinding(p, fscope);
    if (fn.body.type === "BlockStatement") for (const st of fn.body.body) visit(st, fscope);
    else visit(fn.body, fscope);
  };

  const visitClass = (cls: AnyNode, scope: Scope): void => {
    let cscope = scope;
    if (cls.type === "ClassExpression" && cls.id)
      cscope = { names: new Set([cls.id.name]), parent: scope };
    if (cls.superClass) visit(cls.superClass, cscope);
    for (const el of cls.body.body) {
      if (el.type === "StaticBlock") {
        visitFunction(
          {
            type: "FunctionExpression",
            params: [],
            body: { type: "BlockStatement", body: el.body },
          } as unknown as AnyNode,
          cscope,
        );
        continue;
      }
      if (el.computed) visit(el.key, cscope);
      if (el.value) visit(el.value, cscope);
    }
  };

  const visit = (node: AnyNode | null | undefined, scope: Scope): void => {
    if (!node || typeof node !== "object") return;
    switch (node.type) {
      case "Identifier":
        if (!lookup(scope, node.name)) uses.add(node.name);
        return;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        visitFunction(node, scope);
        return;
      case "ClassDeclaration":
      case "ClassExpression":
        visitClass(node, scope);
        return;
      case "VariableDeclaration":
        for (const d of node.declarations) {
          visitPatternBinding(d.id, scope);
          visit(d.init, scope);
        }
        return;
      case "BlockStatement":
      case "StaticBlock": {
        const b: Scope = { names: new Set(), parent: scope };
        declareLexical(node.body, b);
        for (const st of node.body) visit(st, b);
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement": {
        const b: Scope = { names: new Set(), parent: scope };
        const head = node.type === "ForStatement" ? node.init : node.left;
        if (head && head.type === "VariableDeclaration" && head.kind !== "var") {
          for (const d of head.declarations) for (const n of boundNames(d.id)) b.names.add(n);
        }
        for (const key of ["init", "left", "test", "update", "right", "body"])
          if (node[key]) visit(node[key], b);
        return;
      }
      case "SwitchStatement": {
        visit(node.discriminant, scope);
        const b: Scope = { names: new Set(), parent: scope };
        for (const c of node.cases) declareLexical(c.consequent, b);
        for (const c of node.cases) {
          visit(c.test, b);
          for (const st of c.consequent) visit(st, b);
        }
        return;
      }
      case "CatchClause": {
        const b: Scope = { names: new Set(boundNames(node.param)), parent: scope };
        visitPatternBinding(node.param, b);
        visit(node.body, b);
        return;
      }
      case "MemberExpression":
        visit(node.object, scope);
        if (node.computed) visit(node.property, scope);
        return;
      case "Property":
      case "PropertyDefinition":
      case "MethodDefinition":
        if (node.computed) visit(node.key, scope);
        visit(node.value, scope);
        return;
      case "LabeledStatement":
        visit(node.body, scope);
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
      case "PrivateIdentifier":
      case "Literal":
      case "ThisExpression":
      case "Super":
        return;
      case "ImportDeclaration":
      case "ExportAllDeclaration":
        return;
      case "ExportNamedDeclaration":
        if (node.declaration) visit(node.declaration, scope);
        else if (!node.source) for (const s of node.specifiers) visit(s.local, scope);
        return;
      default:
        for (const key in node) {
          if (
            key === "type" ||
            key === "start" ||
            key === "end" ||
            key === "loc" ||
            key === "range"
          )
            continue;
          const v = node[key];
          if (Array.isArray(v)) for (const x of v) visit(x, scope);
          else if (v && typeof v === "object" && typeof v.type === "string") visit(v, scope);
        }
    }
  };

  const body = program.body as unknown as AnyNode[];
  declareVars(body, top);
  declareLexical(body, top);
  for (const st of body) visit(st, top);
  return { defines: [...top.names], uses: [...uses] };
}

/** Keys of statement nodes under which nested statements (and their `var`s) live. */
const STATEMENT_KEYS = [
  "body",
  "consequent",
  "alternate",
  "block",
  "handler",
  "finalizer",
  "cases",
  "init",
  "left",
  "declaration",
] as const;
