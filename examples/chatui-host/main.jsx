// The ChatUI host entry for MozaiksCore: the ChatUI's own MozaiksApp and WebSocketApiAdapter,
// with an auth adapter that returns the signed-in MozaiksCore user. Replaces app/main.jsx of
// the MozaiksAI repository's host template (see README.md).
import './mozaiks-config.js';
import './styles.css';
import React from 'react';
import ReactDOM from 'react-dom/client';
import { MozaiksApp, WebSocketApiAdapter } from '@mozaiks/chat-ui';
import { createMozaiksCoreAuthAdapter } from './mozaiksCoreAuth.js';
import appConfig from './app.json';

const origin = window.location.origin;
const apiAdapter = new WebSocketApiAdapter({ baseUrl: origin, wsUrl: origin.replace(/^http/, 'ws') });

createMozaiksCoreAuthAdapter().then((authAdapter) => {
  ReactDOM.createRoot(document.getElementById('root')).render(
    <React.StrictMode>
      <MozaiksApp
        appName={appConfig.appName}
        defaultAppId={appConfig.appId}
        apiAdapter={apiAdapter}
        authAdapter={authAdapter}
      />
    </React.StrictMode>,
  );
});
