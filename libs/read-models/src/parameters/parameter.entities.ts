import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('enterprise_parameters')
export class EnterpriseParameterRow {
  @PrimaryColumn('text') name!: string;
  @Column('jsonb') value!: unknown;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  @Column('text', { name: 'updated_by' }) updatedBy!: string;
  @Column('bigint') position!: string;
}

@Entity('enterprise_parameter_changes')
export class EnterpriseParameterChangeRow {
  @PrimaryColumn('bigint') position!: string;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('text') actor!: string;
  @Column('text', { name: 'node_id' }) nodeId!: string;
  @Column('jsonb') changes!: Record<string, unknown>;
  @Column('jsonb') previous!: Record<string, unknown>;
}
