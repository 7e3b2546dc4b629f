/**
 * The name this browser's user gave, shown on their cursor's flag to the others editing the
 * same notebook (Livebook's user profile, name only). Kept in localStorage, so every window of
 * this browser uses it; nothing of it is saved in notebooks. A change is announced with the
 * window event `tsnb-user-name` so open notebooks resend their cursor.
 */
import { userNameProblem } from "../core/app-protocol.ts";

const KEY = "tsnb-user-name";
export const USER_NAME_EVENT = "tsnb-user-name";

/** The user's name, or null when none was given (or what is stored is not a valid name). */
export function userName(): string | null {
  let v: string | null = null;
  try {
    v = localStorage.getItem(KEY);
  } catch {
    return null;
  }
  return v !== null && userNameProblem(v) === null ? v.trim() : null;
}

/** Set (or, with "" or null, clear) the name; returns why a name was refused, else null. */
export function setUserName(name: string | null): string | null {
  const v = name?.trim() ?? "";
  if (v !== "") {
    const problem = userNameProblem(v);
    if (problem) return problem;
  }
  if (v === (userName() ?? "")) return null;
  try {
    if (v === "") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, v);
  } catch {
    // Storage refused (private mode): the name lasts for this page only.
  }
  window.dispatchEvent(new Event(USER_NAME_EVENT));
  return null;
}
