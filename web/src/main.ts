// The browser app's entry: Pinia, the router, Vue Flow's styles and ours.
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import '@vue-flow/core/dist/style.css';
import '@vue-flow/core/dist/theme-default.css';
import '@vue-flow/controls/dist/style.css';
import '@vue-flow/minimap/dist/style.css';
import App from './App.vue';
import { createAppRouter } from './router';
import './style.css';
// After style.css: the design tokens map its variables onto the theme.
import './design/theme.css';
import { applyStoredTheme } from './composables/useTheme';

applyStoredTheme();

const app = createApp(App);
app.use(createPinia());
app.use(createAppRouter());
app.mount('#app');
