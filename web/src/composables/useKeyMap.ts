// The editor's keyboard: undo/redo, copy/paste/duplicate, delete, save. Keys typed into a field stay there.
import { onBeforeUnmount, onMounted } from 'vue';

export interface KeyActions {
  undo(): void;
  redo(): void;
  copy(): void;
  paste(): void;
  duplicate(): void;
  remove(): void;
  save(): void;
}

function typingInField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function useKeyMap(enabled: () => boolean, actions: KeyActions): void {
  function onKeyDown(event: KeyboardEvent): void {
    if (!enabled() || typingInField(event.target)) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    let handled = true;
    if (mod && key === 'z' && event.shiftKey) actions.redo();
    else if (mod && key === 'z') actions.undo();
    else if (mod && key === 'y') actions.redo();
    else if (mod && key === 'c') actions.copy();
    else if (mod && key === 'v') actions.paste();
    else if (mod && key === 'd') actions.duplicate();
    else if (mod && key === 's') actions.save();
    else if (!mod && (key === 'delete' || key === 'backspace')) actions.remove();
    else handled = false;
    if (handled) event.preventDefault();
  }
  onMounted(() => window.addEventListener('keydown', onKeyDown));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKeyDown));
}
