/**
 * Markdown that tries to run script in the page: each payload sets `window.__xss` if anything in
 * it executes. Used against the app (test/e2e/app.test.ts) and against exported HTML files
 * (test/e2e/export.test.ts), which must both execute none of it.
 */
export const MARKDOWN_XSS = [
  `<script>window.__xss = "script"</script>`,
  `<img src="x" onerror="window.__xss = 'onerror'">`,
  `[click me](javascript:window.__xss='link') <a href="javascript:window.__xss='a'">a</a>`,
  `<svg><script>window.__xss='svg'</script><a xlink:href="javascript:window.__xss='xlink'"><text>t</text></a></svg>`,
  `<iframe src="javascript:parent.__xss='iframe'"></iframe><details open ontoggle="window.__xss='toggle'">d</details>`,
];
