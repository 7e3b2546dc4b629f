/**
 * The start page's Learn section: the lessons shipped with tsnb, one line each (number, title,
 * what it teaches). Opening one asks the server for the user's copy (`open-lesson`), made in
 * `learn/` of the served folder the first time; a lesson already copied says so and reopens the
 * copy. Self-contained: the start page gives it a slot and it fills it.
 */
import type { Lesson } from "../core/app-protocol.ts";
import { h } from "./dom.ts";

export interface LearnHost {
  listLessons(): Promise<Lesson[]>;
  openLesson(file: string): void;
}

export class LearnSection {
  readonly element: HTMLElement;
  private readonly listEl: HTMLElement;

  constructor(private readonly host: LearnHost) {
    this.listEl = h("ol", { class: "learn-list", "aria-label": "Lessons" });
    this.element = h(
      "section",
      { class: "learn", "aria-labelledby": "learn-title", hidden: true },
      h("h2", { class: "fb-title", id: "learn-title" }, "Learn"),
      h(
        "p",
        { class: "learn-intro muted" },
        "Lessons that teach tsnb and machine learning, each a notebook to run and change. " +
          "Opening one makes your own copy in ",
        h("code", {}, "learn/"),
        "; the originals stay as shipped.",
      ),
      this.listEl,
    );
  }

  async load(): Promise<void> {
    let lessons: Lesson[];
    try {
      lessons = await this.host.listLessons();
    } catch {
      return; // an older server: no Learn section
    }
    this.render(lessons);
  }

  render(lessons: Lesson[]): void {
    this.element.hidden = lessons.length === 0;
    this.listEl.replaceChildren(
      ...lessons.map((lesson, i) => {
        const link = h(
          "a",
          {
            href: "#",
            class: "learn-open",
            "aria-label": `${lesson.title}${lesson.copy ? " (your copy)" : ""}`,
          },
          h("span", { class: "learn-number", "aria-hidden": "true" }, String(i + 1)),
          h("span", { class: "learn-title" }, lesson.title),
        );
        link.addEventListener("click", (ev) => {
          ev.preventDefault();
          this.host.openLesson(lesson.file);
        });
        return h(
          "li",
          { class: "learn-item" },
          link,
          h("span", { class: "learn-summary muted" }, lesson.summary),
          lesson.copy
            ? h("span", { class: "learn-copy", title: `continue in ${lesson.copy}` }, "your copy")
            : null,
        );
      }),
    );
  }
}
