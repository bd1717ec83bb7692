#!/usr/bin/env node
/**
 * Draws the tray icons from the SVG below: one per tray state (main/app/tray-state.ts), as
 * macOS template images (black + alpha; the OS tints them) and as colour images for Windows and
 * Linux, each at 16 px and 32 px (@2x). Run it after changing a drawing; the PNGs are committed.
 *
 *   node assets/tray/make-tray-icons.mjs
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

const here = dirname(fileURLToPath(import.meta.url));

// A 32×32 drawing: three server bars, each with a slot and a light.
const bars = [4, 13, 22];
const bar = (y, fill) => `<rect x="2" y="${y}" width="28" height="6" rx="1.5" fill="${fill}"/>`;
const holes = (y) => `<rect x="6" y="${y + 2}" width="10" height="2" rx="1" fill="black"/><rect x="23" y="${y + 2}" width="3" height="2" rx="1" fill="black"/>`;

/** The state mark in the lower right corner; `cut` draws its inner sign in the mask colour. */
const badges = {
  idle: null,
  running: { shape: (fill) => `<circle cx="25" cy="25" r="6.5" fill="${fill}"/>`, sign: (fill) => `<path d="M23 21.8 L28.4 25 L23 28.2 Z" fill="${fill}"/>`, colour: '#1e9e4a' },
  failed: { shape: (fill) => `<circle cx="25" cy="25" r="6.5" fill="${fill}"/>`, sign: (fill) => `<path d="M22.2 22.2 L27.8 27.8 M27.8 22.2 L22.2 27.8" stroke="${fill}" stroke-width="2" stroke-linecap="round"/>`, colour: '#d93025' },
  attention: { shape: (fill) => `<path d="M25 17.5 L32 31 L18 31 Z" fill="${fill}" stroke="${fill}" stroke-width="1.5" stroke-linejoin="round"/>`, sign: (fill) => `<rect x="24.1" y="21.5" width="1.8" height="5" rx="0.9" fill="${fill}"/><circle cx="25" cy="28.7" r="1" fill="${fill}"/>`, colour: '#e37400' },
};

function template(state) {
  const badge = badges[state];
  // The glyph, with a gap cut around the badge so the two read apart at 16 px.
  const gap = badge ? badge.shape('black').replace('r="6.5"', 'r="8.5"').replace('stroke-width="1.5"', 'stroke-width="5"') : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">
  <defs><mask id="m"><rect width="32" height="32" fill="white"/>${bars.map(holes).join('')}${gap}</mask>
  <mask id="b"><rect width="32" height="32" fill="white"/>${badge ? badge.sign('black') : ''}</mask></defs>
  <g mask="url(#m)">${bars.map((y) => bar(y, 'black')).join('')}</g>
  ${badge ? `<g mask="url(#b)">${badge.shape('black')}</g>` : ''}
</svg>`;
}

function colour(state) {
  const badge = badges[state];
  const ring = badge ? badge.shape('white').replace('r="6.5"', 'r="8"').replace('stroke-width="1.5"', 'stroke-width="4"') : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">
  <defs><mask id="m"><rect width="32" height="32" fill="white"/>${bars.map(holes).join('')}</mask></defs>
  <rect x="0" y="0" width="32" height="32" rx="7" fill="#2f5fd0"/>
  <g transform="translate(3 3) scale(0.8125)"><g mask="url(#m)">${bars.map((y) => bar(y, 'white')).join('')}</g></g>
  ${badge ? `${ring}${badge.shape(badge.colour)}${badge.sign('white')}` : ''}
</svg>`;
}

const names = { idle: 'tray', running: 'trayRunning', failed: 'trayFailed', attention: 'trayAttention' };
for (const [state, name] of Object.entries(names)) {
  for (const [suffix, svg] of [['Template', template(state)], ['', colour(state)]]) {
    for (const [scale, size] of [['', 16], ['@2x', 32]]) {
      const png = new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng();
      writeFileSync(join(here, `${name}${suffix}${scale}.png`), png);
    }
  }
}
console.log('tray icons written to', here);
