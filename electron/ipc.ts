/**
 * The IPC contract between the Electron main process, the preload script and the page: channel
 * names in one table, the argument/result types per channel derived from it, and the API the
 * preload exposes on `window.tsnbDesktop`. Imported by main, preload and the renderer (types
 * only there); no runtime import of electron here.
 */

/** Every IPC channel, by purpose. Values are the wire names. */
export const IPC = {
  /** page → main (invoke): native "Save as" dialog, then the server saves the session there; returns the absolute path or null (cancelled). */
  saveAsDialog: "tsnb:save-as-dialog",
  /** page → main (invoke): native "Open" dialog, then the server opens the file; returns the session id or null. */
  openDialog: "tsnb:open-dialog",
  /** page → main (invoke): the recent files (absolute paths, newest first). */
  recentFiles: "tsnb:recent-files",
  /** page → main (invoke): open one of the recent files; returns the session id. */
  openRecent: "tsnb:open-recent",
  /** main → page: a menu command. */
  menuCommand: "tsnb:menu-command",
} as const;

export type IpcChannel = (typeof IPC)[keyof typeof IPC];

/** Commands the main process's menus send to the page. */
export type MenuCommand =
  | { type: "new" }
  /** Join a session the main process opened (Open…, Open Recent, a file from the command line). */
  | { type: "open-session"; sessionId: string }
  | { type: "save" }
  | { type: "save-as" }
  | { type: "run-all" }
  | { type: "interrupt" }
  | { type: "restart-kernel" };

/** Arguments and results of the invoke channels (derived types keep main and preload in step). */
export interface InvokeChannels {
  [IPC.saveAsDialog]: { args: [sessionId: string, suggestedName: string]; result: string | null };
  [IPC.openDialog]: { args: []; result: string | null };
  [IPC.recentFiles]: { args: []; result: string[] };
  [IPC.openRecent]: { args: [file: string]; result: string };
}

/** Names of the invoke channels. */
export type InvokeChannel = keyof InvokeChannels;

/** What the preload exposes to the page as `window.tsnbDesktop` (named functions only). */
export interface DesktopApi {
  /** Ask for a file with the native dialog and save the session there; the absolute path, or null when cancelled. */
  saveAsDialog(sessionId: string, suggestedName: string): Promise<string | null>;
  /** Native open dialog; the opened session's id, or null when cancelled. */
  openDialog(): Promise<string | null>;
  recentFiles(): Promise<string[]>;
  /** Open a recent file; resolves to its session id. */
  openRecent(file: string): Promise<string>;
  /** Subscribe to menu commands; returns an unsubscribe function. */
  onMenuCommand(listener: (cmd: MenuCommand) => void): () => void;
}

const MENU_TYPES = new Set<MenuCommand["type"]>([
  "new",
  "open-session",
  "save",
  "save-as",
  "run-all",
  "interrupt",
  "restart-kernel",
]);

/** Validate a menu command crossing from main to the page. */
export function isMenuCommand(value: unknown): value is MenuCommand {
  if (typeof value !== "object" || value === null) return false;
  const t = (value as { type?: unknown }).type;
  if (typeof t !== "string" || !MENU_TYPES.has(t as MenuCommand["type"])) return false;
  return t !== "open-session" || typeof (value as { sessionId?: unknown }).sessionId === "string";
}
