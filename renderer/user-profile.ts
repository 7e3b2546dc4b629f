/**
 * The name and cursor colour this browser's user chose, shown on their cursor's flag to the
 * others editing the same notebook (Livebook's user profile). Kept in localStorage, so every
 * window of this browser uses them; nothing of them is saved in notebooks. A change is announced
 * with the window event `tsnb-user-profile` so open notebooks resend their cursor.
 */
import { USER_COLORS, userColorProblem, userNameProblem } from "../core/app-protocol.ts";

const NAME_KEY = "tsnb-user-name";
const COLOR_KEY = "tsnb-user-color";
export const USER_PROFILE_EVENT = "tsnb-user-profile";
export { USER_COLORS };

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Store `value` (null: remove it) and announce the change. */
function store(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
  window.dispatchEvent(new Event(USER_PROFILE_EVENT));
}

/** The user's name, or null when none was given (or what is stored is not a valid name). */
export function userName(): string | null {
  const v = stored(NAME_KEY);
  return v !== null && userNameProblem(v) === null ? v.trim() : null;
}

/** Set (or, with "" or null, clear) the name; returns why a name was refused, else null. */
export function setUserName(name: string | null): string | null {
  const v = name?.trim() ?? "";
  if (v !== "") {
    const problem = userNameProblem(v);
    if (problem) return problem;
  }
  if (v !== (userName() ?? "")) store(NAME_KEY, v === "" ? null : v);
  return null;
}

/**
 * The cursor colour the user chose: an index into the page's USER_COLORS cursor colours, or
 * null for "automatic" (a colour picked from the window's id, different windows differing).
 */
export function userColor(): number | null {
  const v = stored(COLOR_KEY);
  const n = v === null ? NaN : Number(v);
  return userColorProblem(n) === null ? n : null;
}

/** Choose a colour (null: automatic). */
export function setUserColor(color: number | null): void {
  if (color !== null && userColorProblem(color) !== null) return;
  if (color !== userColor()) store(COLOR_KEY, color === null ? null : String(color));
}
