// Istio's Destination: where a route, mirror or Sidecar egress proxy sends traffic. A service host
// (no IP, not `*`), an optional subset of its DestinationRule, and an optional port (Istio's
// validateDestination, validateSubsetName, validatePortSelector).

import { type Infer, int, obj, str } from '../schema.ts';
import { isIstioLabel, wildcardDomainProblem } from './istio-hosts.ts';

export const destinationHost = str({
  refine: (v, c) => {
    if (v === '*') {
      c.error('must name a service, not "*"');
      return;
    }
    const problem = wildcardDomainProblem(v);
    if (problem !== undefined) c.error(problem);
  },
});

export const subsetName = str({
  refine: (v, c) => {
    if (v !== '' && !isIstioLabel(v)) {
      c.error(
        `must be a subset name (1-63 letters, digits and '-', starting and ending with a letter or digit), got ${JSON.stringify(v)}`,
      );
    }
  },
});

/** A port selector whose number is required (Istio refuses a port without one). */
export const destinationPort = obj(
  { number: int({ min: 1, max: 65535 }) },
  { name: 'a port selector', required: ['number'] },
);

export const destination = obj(
  { host: destinationHost, subset: subsetName, port: destinationPort },
  { name: 'a destination', required: ['host'] },
);

export type Destination = Infer<typeof destination>;
