import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PARAMETERS_READ_MODEL, type ParametersReadModel } from '../../ports';
import { GetParameterHistoryQuery, GetParametersQuery } from './get-parameters.query';

@QueryHandler(GetParametersQuery)
export class GetParametersHandler implements IQueryHandler<GetParametersQuery> {
  constructor(@Inject(PARAMETERS_READ_MODEL) private readonly readModel: ParametersReadModel) {}

  execute() {
    return this.readModel.current();
  }
}

@QueryHandler(GetParameterHistoryQuery)
export class GetParameterHistoryHandler implements IQueryHandler<GetParameterHistoryQuery> {
  constructor(@Inject(PARAMETERS_READ_MODEL) private readonly readModel: ParametersReadModel) {}

  execute({ limit }: GetParameterHistoryQuery) {
    return this.readModel.history(limit);
  }
}
