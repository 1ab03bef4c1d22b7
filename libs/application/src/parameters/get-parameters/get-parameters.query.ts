import { Query } from '@nestjs/cqrs';
import type { ParameterChange, ParametersView } from '../../ports';

export class GetParametersQuery extends Query<ParametersView> {}

export class GetParameterHistoryQuery extends Query<ParameterChange[]> {
  constructor(readonly limit: number) {
    super();
  }
}
