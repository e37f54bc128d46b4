// The display page of one screen of a wall (/wall/:id/screen/:n), run by a kiosk browser: it shows the screen's
// pictures, follows every change, and comes back by itself after a network cut or a gateway restart.
import { DisplayLink, forgetToken, takeToken } from './display-link.js';
import { DisplayScreen } from './display-screen.js';
import { t } from '../i18n/i18n.js';
import './display.css';

const root = document.getElementById('screen')!;
const banner = document.createElement('div');
banner.className = 'display-banner';
document.body.append(banner);
const say = (text: string) => {
  banner.textContent = text;
  banner.style.display = text ? '' : 'none';
};

const token = takeToken();
if (!token) {
  say(t('display.noToken'));
} else {
  let down = false;
  const link = new DisplayLink(token, {
    onState: (s) => {
      document.title = `${s.wall.name} · ${t('display.screen', { n: s.screen + 1 })}`;
      screen.show(s, down);
      down = false;
      say('');
    },
    onLink: (up, refused) => {
      if (up) return;
      down = true;
      if (refused) {
        forgetToken();
        say(t('display.revoked'));
      } else say(t('display.reconnecting'));
    },
  });
  const screen = new DisplayScreen(root, link.source);
  // What the tests and the benchmark read of the screen.
  (window as unknown as { __display: unknown }).__display = { stats: () => screen.stats() };
  link.start();
}
