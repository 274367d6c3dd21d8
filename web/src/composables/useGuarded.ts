// A view's user actions: run one, show what went wrong as a sentence instead of throwing, and say while one
// is under way (to disable buttons).
import { ref } from 'vue';
import { describeError } from '../api/client';

export function useGuarded() {
  const error = ref<string | null>(null);
  const busy = ref(false);

  async function guarded(work: () => Promise<unknown>): Promise<void> {
    error.value = null;
    busy.value = true;
    try {
      await work();
    } catch (err) {
      error.value = describeError(err);
    } finally {
      busy.value = false;
    }
  }

  return { error, busy, guarded };
}
