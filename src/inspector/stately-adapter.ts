/**
 * Optional bridge to `@statelyai/inspect` (an optional peer dependency):
 * honeybee does not import it, so this file compiles and runs without it.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { createTranslator } from './sanitize.ts';

/**
 * The one part of an `@statelyai/inspect` inspector this adapter uses: its
 * adapter's `send`, which takes a Stately inspection event. The inspectors
 * returned by `createWebSocketInspector`, `createBrowserInspector` and
 * `createSkyInspector` all have it. Typed structurally (`never` accepts any
 * parameter type) so no import of the package is needed.
 */
export interface StatelyInspectorLike {
  readonly adapter: { send(event: never): void };
}

/** Options of {@link toStatelyInspector}. */
export interface StatelyAdapterOptions {
  /**
   * Attach each machine's JSON definition to its `@xstate.actor` event, so the
   * Stately UI can draw it. A definition is the machine config (state names,
   * event names, action and guard names), never runtime data. @default true
   */
  definitions?: boolean;
}

const STATELY_TYPES = new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);

/** The machine config as JSON, functions replaced by their names; cached per logic. */
function definitionOf(logic: unknown, cache: WeakMap<object, string>): string | undefined {
  const config = (logic as { config?: unknown } | undefined)?.config;
  if (typeof config !== 'object' || config === null) return undefined;
  let text = cache.get(config);
  if (text === undefined) {
    text = JSON.stringify(config, (_key, value: unknown) => (typeof value === 'function' ? { type: value.name || 'anonymous' } : value));
    cache.set(config, text);
  }
  return text;
}

/**
 * Returns an XState inspection observer that sends honeybee's sanitised
 * events (the same ones the offline inspector shows: no payloads, no context
 * objects, no URL credentials) to an inspector from `@statelyai/inspect`.
 * Only the Stately event types are forwarded; snapshots are not throttled.
 *
 * @example
 * ```ts
 * import { createWebSocketInspector } from '@statelyai/inspect';
 * const stately = createWebSocketInspector({ url: 'ws://localhost:8080' });
 * const pool = createPool({ inspect: toStatelyInspector(stately) });
 * ```
 */
export function toStatelyInspector(inspector: StatelyInspectorLike, options: StatelyAdapterOptions = {}): Observer<InspectionEvent> {
  const translator = createTranslator();
  const definitions = new WeakMap<object, string>();
  const withDefinitions = options.definitions ?? true;
  return {
    next(event) {
      // The translation keeps the type; skip what Stately does not take before paying for it.
      if (!STATELY_TYPES.has(event.type)) return;
      const wire = translator.translate(event);
      if (wire === undefined) return;
      if (wire.type === '@xstate.actor' && withDefinitions) {
        wire.definition = definitionOf((event.actorRef as { logic?: unknown }).logic, definitions);
      }
      inspector.adapter.send(wire as never);
    }
  };
}
