// Module declarations for what esbuild bundles that TypeScript does not know.
declare module "*.css";
