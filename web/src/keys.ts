import { byId } from './dom.js';

/**
 * A key field whose value lives in sessionStorage only: it survives a reload of the tab, not the
 * tab itself, and never reaches localStorage, a cookie or the URL.
 */
export function keyField(inputId: string, forgetId: string, storageName: string): { value(): string; forget(): void } {
  const input = byId(inputId, HTMLInputElement);
  const forget = byId(forgetId, HTMLButtonElement);
  input.value = readStored(storageName);
  const remember = () => {
    try {
      if (input.value.trim() === '') sessionStorage.removeItem(storageName);
      else sessionStorage.setItem(storageName, input.value.trim());
    } catch {
      // Storage may be refused (private modes): the key then lasts as long as the page.
    }
  };
  input.addEventListener('change', remember);
  const clear = () => {
    input.value = '';
    remember();
  };
  forget.addEventListener('click', () => {
    clear();
    input.focus();
  });
  return {
    value: () => {
      remember();
      return input.value.trim();
    },
    forget: clear,
  };
}

function readStored(name: string): string {
  try {
    return sessionStorage.getItem(name) ?? '';
  } catch {
    return '';
  }
}
