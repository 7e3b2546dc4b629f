/**
 * The IPC contract between the Electron main process, the preload script and the page: channel
 * names in one table, the argument/result types per channel derived from it, and the API the
 * preload exposes on `window.tsnbDesktop`. Imported by main, preload and the renderer (types
 * only there); no runtime import of electron here.
 */

/** Every IPC channel, by purpose. Values are the wire names. */
export const IPC = {
  /** page → main (invoke): native "Save as" dialog; returns a path relative to the served folder or null. */
  saveDialog: "tsnb:save-dialog",
  /** page → main (invoke): native "Open" dialog; returns a path relative to the served folder or null. */
  openDialog: "tsnb:open-dialog",
  /** page → main (invoke): the recent files list. */
  recentFiles: "tsnb:recent-files",
  /** page → main (send): a notebook was opened/saved at this path (for the recent list). */
  noteRecent: "tsnb:note-recent",
  /** main → page: a menu command. */
  menuCommand: "tsnb:menu-command",
} as const;

export type IpcChannel = (typeof IPC)[keyof typeof IPC];

/** Commands the main process's menus send to the page. */
export type MenuCommand =
  | { type: "new" }
  | { type: "open"; path: string }
  | { type: "save" }
  | { type: "save-as" }
  | { type: "run-all" }
  | { type: "interrupt" }
  | { type: "restart-kernel" };

/** Arguments and results of the invoke channels (derived types keep main and preload in step). */
export interface InvokeChannels {
  [IPC.saveDialog]: { args: [suggested: string]; result: string | null };
  [IPC.openDialog]: { args: []; result: string | null };
  [IPC.recentFiles]: { args: []; result: string[] };
}

/** What the preload exposes to the page as `window.tsnbDesktop` (named functions only). */
export interface DesktopApi {
  saveDialog(suggested: string): Promise<string | null>;
  openDialog(): Promise<string | null>;
  recentFiles(): Promise<string[]>;
  noteRecent(path: string): void;
  /** Subscribe to menu commands; returns an unsubscribe function. */
  onMenuCommand(listener: (cmd: MenuCommand) => void): () => void;
}

const MENU_TYPES = new Set<MenuCommand["type"]>(["new", "open", "save", "save-as", "run-all", "interrupt", "restart-kernel"]);

/** Validate a menu command crossing from main to the page. */
export function isMenuCommand(value: unknown): value is MenuCommand {
  if (typeof value !== "object" || value === null) return false;
  const t = (value as { type?: unknown }).type;
  if (typeof t !== "string" || !MENU_TYPES.has(t as MenuCommand["type"])) return false;
  return t !== "open" || typeof (value as { path?: unknown }).path === "string";
}
