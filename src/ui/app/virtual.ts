import {
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
  type VirtualizerOptions,
} from '@tanstack/virtual-core';
import { useLayoutEffect, useReducer, useState } from 'preact/hooks';

type Options = Pick<VirtualizerOptions<HTMLElement, HTMLElement>, 'count' | 'estimateSize' | 'overscan'> & {
  getScrollElement(): HTMLElement | null;
};

/**
 * TanStack Virtual's framework-agnostic core in a Preact hook, the way its React adapter (`useVirtualizer`) wires
 * it: one Virtualizer per component, options renewed each render, mounted after layout, and a re-render whenever
 * the visible range changes. Only the rows in view (and `overscan` around them) are rendered, however many there are.
 */
export function useVirtualizer(options: Options): Virtualizer<HTMLElement, HTMLElement> {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const full: VirtualizerOptions<HTMLElement, HTMLElement> = {
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    onChange: () => rerender(0),
    ...options,
  };
  const [v] = useState(() => new Virtualizer<HTMLElement, HTMLElement>(full));
  v.setOptions(full);
  useLayoutEffect(() => v._didMount(), [v]);
  useLayoutEffect(() => v._willUpdate());
  return v;
}
