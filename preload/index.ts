/**
 * The preload: runs sandboxed, before the renderer, with access to ipcRenderer. It exposes
 * `window.hpc` with exactly one function per contract entry and nothing else — never
 * ipcRenderer itself, never the IPC event object (its `sender` would leak IPC access).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { invokeContract, pushContract } from './contract.js';
import type { HpcApi } from './contract.js';

function buildHpcApi(): HpcApi {
  const api: Record<string, unknown> = {};
  for (const [channel, { method }] of Object.entries(invokeContract)) {
    api[method] = (...args: unknown[]): Promise<unknown> => ipcRenderer.invoke(channel, ...args);
  }
  for (const [event, { method }] of Object.entries(pushContract)) {
    api[method] = (listener: (payload: unknown) => void): (() => void) => {
      const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
      ipcRenderer.on(event, forward);
      return () => {
        ipcRenderer.removeListener(event, forward);
      };
    };
  }
  // The loops above fill in exactly the keys HpcApi derives from the same maps.
  return Object.freeze(api) as HpcApi;
}

contextBridge.exposeInMainWorld('hpc', buildHpcApi());
