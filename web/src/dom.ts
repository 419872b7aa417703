/** Small DOM helpers: elements built from data with textContent only, never from HTML strings. */

type Child = Node | string | number | null | undefined | false;

interface Props {
  readonly class?: string;
  readonly id?: string;
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

/** `h('p', {class: 'hint'}, 'Hello ', h('strong', {}, 'you'))`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class !== undefined) element.className = props.class;
  if (props.id !== undefined) element.id = props.id;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * An icon from the page's inline sprite (`<symbol id="…">`). With a label it is an image with that
 * name; without, it is decoration that screen readers skip.
 */
export function icon(symbolId: string, label?: string, className = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('focusable', 'false');
  if (label === undefined) svg.setAttribute('aria-hidden', 'true');
  else {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  }
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#${symbolId}`);
  svg.append(use);
  return svg;
}

/** The element with this id, checked to be of the expected kind (a page and its script must agree). */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`The page has no ${kind.name} #${id}.`);
  return element;
}

/** Shows a message in a live region; an empty message hides it. */
export function say(region: HTMLElement, message: string, tone: 'info' | 'error' | 'success' = 'info'): void {
  region.textContent = message;
  region.dataset.tone = tone;
  region.hidden = message === '';
}
