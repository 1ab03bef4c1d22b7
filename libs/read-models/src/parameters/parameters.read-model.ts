import type { EnterpriseParameterValues } from '@authz/contracts';
import { DEFAULT_PARAMETERS } from '@authz/domain';
import type { ParameterChange, ParametersReadModel, ParametersView } from '@authz/application';
import type { Database } from '@authz/event-store';
import { EnterpriseParameterChangeRow, EnterpriseParameterRow } from './parameter.entities';

export class PostgresParametersReadModel implements ParametersReadModel {
  constructor(private readonly db: Database) {}

  async current(): Promise<ParametersView> {
    const [rows, checkpoint] = await Promise.all([
      this.db.read((m) => m.getRepository(EnterpriseParameterRow).find()),
      this.db.query<{ position: string }>(`SELECT position FROM projection_checkpoints WHERE projection = 'parameters'`),
    ]);
    const values: EnterpriseParameterValues = { ...DEFAULT_PARAMETERS };
    for (const row of rows) {
      if (row.name in values) Object.assign(values, { [row.name]: row.value });
    }
    const latest = rows.reduce<EnterpriseParameterRow | undefined>(
      (a, b) => (a && Number(a.position) > Number(b.position) ? a : b),
      undefined,
    );
    return {
      values,
      updatedAt: latest ? latest.updatedAt.toISOString() : null,
      updatedBy: latest?.updatedBy ?? null,
      position: Number(checkpoint[0]?.position ?? 0),
    };
  }

  async history(limit: number): Promise<ParameterChange[]> {
    const rows = await this.db.read((m) =>
      m.getRepository(EnterpriseParameterChangeRow).find({ order: { position: 'DESC' }, take: limit }),
    );
    return rows.map((row) => ({
      position: Number(row.position),
      occurredAt: row.occurredAt.toISOString(),
      actor: row.actor,
      nodeId: row.nodeId,
      changes: row.changes,
      previous: row.previous,
    }));
  }
}

/**
 * The parameters are read on every token request and change rarely: answers are kept for a
 * short while, and dropped at once when this process's own projection applies a change.
 */
export class CachedParametersReadModel implements ParametersReadModel {
  private cached?: { view: Promise<ParametersView>; until: number };

  constructor(
    private readonly inner: ParametersReadModel,
    private readonly ttlMs = 1_000,
  ) {}

  current(): Promise<ParametersView> {
    if (!this.cached || this.cached.until <= Date.now()) {
      const view = this.inner.current();
      this.cached = { view, until: Date.now() + this.ttlMs };
      view.catch(() => (this.cached = undefined));
    }
    return this.cached.view;
  }

  history(limit: number): Promise<ParameterChange[]> {
    return this.inner.history(limit);
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
