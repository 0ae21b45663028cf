// Vite config of the ChatUI host for MozaiksCore. Copy this folder's files into the app/ folder
// of the MozaiksAI repository (next to its package.json) and run `npx vite build` there.
//
//   MOZAIKS_APP_DIR  the MozaiksCore workspace whose workflows/<Workflow>/components/ are built in
//                    (default: ../../mozaiks-core/app)
//   MOZAIKS_SERVER   the MozaiksCore server `vite dev` proxies /api, /ws and /accounts to
//                    (default: http://127.0.0.1:8000)
import { defineConfig, transformWithEsbuild } from 'vite';
import react from '@vitejs/plugin-react';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workspace = path.resolve(process.env.MOZAIKS_APP_DIR || path.join(here, '../../mozaiks-core/app'));
const workspaceWorkflows = path.join(workspace, 'workflows');
const server = process.env.MOZAIKS_SERVER || 'http://127.0.0.1:8000';
const chatUiSrc = path.resolve(here, '../chat-ui/src');
const jsWithJsx = (id) => id.startsWith(chatUiSrc) || id.startsWith(workspaceWorkflows);

export default defineConfig({
  base: '/',
  publicDir: path.join(here, 'public'),
  plugins: [
    {
      // chat-ui/src and the workspace's components are .js files that contain JSX.
      name: 'jsx-in-js',
      enforce: 'pre',
      async transform(code, id) {
        if (id.endsWith('.js') && jsWithJsx(id)) {
          return transformWithEsbuild(code, id, { loader: 'jsx', jsx: 'automatic', jsxImportSource: 'react' });
        }
        return undefined;
      },
    },
    react({ include: /\.(jsx|js)$/ }),
  ],
  resolve: {
    // One React for the ChatUI, this host and the workspace's components (resolved from here).
    dedupe: ['react', 'react-dom', 'react-router-dom'],
    alias: [
      { find: '@mozaiks/chat-ui', replacement: path.join(chatUiSrc, 'index.js') },
      { find: /^@chat-workflows\/index(\.js)?$/, replacement: path.join(here, 'workflows.js') },
      { find: '@chat-workflows', replacement: workspaceWorkflows },
      { find: /^react$/, replacement: path.join(here, 'node_modules/react') },
      { find: /^react\/jsx-runtime$/, replacement: path.join(here, 'node_modules/react/jsx-runtime.js') },
      { find: /^react\/jsx-dev-runtime$/, replacement: path.join(here, 'node_modules/react/jsx-dev-runtime.js') },
    ],
  },
  define: { 'process.env': JSON.stringify({}) },
  server: {
    port: 3000,
    proxy: {
      '/api': { target: server },
      '/accounts': { target: server },
      '/ws': { target: server.replace(/^http/, 'ws'), ws: true },
    },
  },
  optimizeDeps: { esbuildOptions: { loader: { '.js': 'jsx' } } },
});
