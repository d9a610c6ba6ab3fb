/**
 * The dashboard's only persisted state: the API key and the chosen environment, in session storage, so they live
 * as long as the tab and are never written anywhere else.
 */
export interface Settings {
  key: string | null;
  environment: string | null;
}

const KEY = 'vigil.apiKey';
const ENVIRONMENT = 'vigil.environment';

export function loadSettings(): Settings {
  return { key: read(KEY), environment: read(ENVIRONMENT) };
}

export function saveSettings(s: Settings): void {
  write(KEY, s.key);
  write(ENVIRONMENT, s.environment);
}

function read(name: string): string | null {
  try {
    return sessionStorage.getItem(name);
  } catch {
    return null; // storage disabled: the key is asked again on reload
  }
}

function write(name: string, value: string | null): void {
  try {
    if (value) sessionStorage.setItem(name, value);
    else sessionStorage.removeItem(name);
  } catch {
    // storage disabled
  }
}
