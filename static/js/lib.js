// The one place the vendored view library is imported from. htm turns tagged templates into
// Preact elements; every ${value} inside element content becomes a text node, never HTML.
import { Fragment, h, render } from '../vendor/preact.js';
import {
  useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState,
} from '../vendor/hooks.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
export { Fragment, render, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState };
