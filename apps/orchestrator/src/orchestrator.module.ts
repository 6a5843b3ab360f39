import { Module, type DynamicModule } from '@nestjs/common';
import { SagasController } from './sagas.controller';
import { SagasService } from './sagas.service';

/** HTTP wiring of the orchestrator; the service itself is built in main.ts. */
@Module({})
export class OrchestratorModule {
  static register(sagas: SagasService): DynamicModule {
    return { module: OrchestratorModule, controllers: [SagasController], providers: [{ provide: SagasService, useValue: sagas }] };
  }
}
