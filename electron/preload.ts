/**
 * The preload script of the app window (runs sandboxed, with context isolation): exposes
 * `window.tsnbDesktop` — named functions only, never `ipcRenderer` itself — for native dialogs,
 * recent files and menu commands. Menu commands are validated before reaching the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron";
import {
  IPC,
  isMenuCommand,
  type DesktopApi,
  type InvokeChannel,
  type InvokeChannels,
  type MenuCommand,
} from "./ipc.ts";

function invoke<C extends InvokeChannel>(
  channel: C,
  ...args: InvokeChannels[C]["args"]
): Promise<InvokeChannels[C]["result"]> {
  return ipcRenderer.invoke(channel, ...args) as Promise<InvokeChannels[C]["result"]>;
}

const api: DesktopApi = {
  saveAsDialog: (sessionId, suggestedName) =>
    invoke(IPC.saveAsDialog, String(sessionId), String(suggestedName)),
  openDialog: () => invoke(IPC.openDialog),
  recentFiles: () => invoke(IPC.recentFiles),
  openRecent: (file) => invoke(IPC.openRecent, String(file)),
  onMenuCommand(listener: (cmd: MenuCommand) => void) {
    const handler = (_ev: IpcRendererEvent, cmd: unknown) => {
      if (isMenuCommand(cmd)) listener(cmd);
    };
    ipcRenderer.on(IPC.menuCommand, handler);
    return () => {
      ipcRenderer.removeListener(IPC.menuCommand, handler);
    };
  },
};

contextBridge.exposeInMainWorld("tsnbDesktop", api);
