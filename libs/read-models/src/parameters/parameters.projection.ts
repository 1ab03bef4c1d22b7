import type { EntityManager } from 'typeorm';
import {
  ENTERPRISE_PARAMETERS_CHANGED,
  type EnterpriseParametersChangedV1,
  type EventEnvelope,
} from '@authz/contracts';
import type { Projection } from '../projection';
import { EnterpriseParameterChangeRow, EnterpriseParameterRow } from './parameter.entities';

/** Current enterprise parameters (one row each) and the history of their changes. */
export class ParametersProjection implements Projection {
  readonly name = 'parameters';
  readonly categories = ['parameters'] as const;

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (event.type !== ENTERPRISE_PARAMETERS_CHANGED) return;
    const { changes, previous } = event.data as EnterpriseParametersChangedV1;
    const updatedAt = new Date(event.occurredAt);
    await manager.getRepository(EnterpriseParameterRow).upsert(
      Object.entries(changes).map(([name, value]) => ({
        name,
        value,
        updatedAt,
        updatedBy: event.actor,
        position: String(event.position),
      })),
      ['name'],
    );
    await manager.getRepository(EnterpriseParameterChangeRow).insert({
      position: String(event.position),
      occurredAt: updatedAt,
      actor: event.actor,
      nodeId: event.nodeId,
      changes,
      previous,
    });
  }

  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM enterprise_parameters');
    await manager.query('DELETE FROM enterprise_parameter_changes');
  }
}
