// What every connection handler reaches: the runtime current when the connection starts, the
// proxy's counters and its log.

import type { Logger } from '../../telemetry/index.ts';
import type { Runtime } from './runtime.ts';
import type { Stats } from './stats.ts';

export interface ProxyContext {
  current(): Runtime;
  stats: Stats;
  log: Logger;
}
