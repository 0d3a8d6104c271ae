// The proxy's counters and gauges, rendered as Prometheus text on the admin port. Label sets are
// few and known, so each series is a string key built once per event.

export class Stats {
  readonly #counters = new Map<string, { name: string; labels: string; value: number }>();
  readonly #help = new Map<string, string>();

  describe(name: string, help: string): void {
    this.#help.set(name, help);
  }

  add(name: string, labels: Readonly<Record<string, string>> = {}, by = 1): void {
    const rendered = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
      .join(',');
    const key = `${name}{${rendered}}`;
    const series = this.#counters.get(key);
    if (series === undefined) this.#counters.set(key, { name, labels: rendered, value: by });
    else series.value += by;
  }

  set(name: string, labels: Readonly<Record<string, string>>, value: number): void {
    this.add(name, labels, 0);
    const rendered = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    const series = this.#counters.get(`${name}{${rendered}}`);
    if (series !== undefined) series.value = value;
  }

  /** Sets `name` to this one series only (an info metric such as the snapshot version in force). */
  replace(name: string, labels: Readonly<Record<string, string>>, value: number): void {
    for (const [key, series] of this.#counters) if (series.name === name) this.#counters.delete(key);
    this.set(name, labels, value);
  }

  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    const rendered = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    return this.#counters.get(`${name}{${rendered}}`)?.value ?? 0;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const byName = new Map<string, string[]>();
    for (const s of this.#counters.values()) {
      const lines = byName.get(s.name) ?? [];
      lines.push(`${s.name}${s.labels === '' ? '' : `{${s.labels}}`} ${s.value}`);
      byName.set(s.name, lines);
    }
    let out = '';
    for (const [name, lines] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const help = this.#help.get(name);
      if (help !== undefined) out += `# HELP ${name} ${help}\n`;
      out += `# TYPE ${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}\n${lines.join('\n')}\n`;
    }
    return out;
  }
}
