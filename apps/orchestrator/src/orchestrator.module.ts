import { Module, type DynamicModule } from '@nestjs/common';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { DeadLettersService } from './dead-letters/dead-letters.service';
import { SagasController } from './sagas.controller';
import { SagasService } from './sagas.service';

/** HTTP wiring of the orchestrator; the service itself is built in main.ts. */
@Module({})
export class OrchestratorModule {
  /** Without `deadLetters` (tests of the saga API alone) the dead-letter routes are left out. */
  static register(sagas: SagasService, deadLetters?: DeadLettersService): DynamicModule {
    return {
      module: OrchestratorModule,
      controllers: deadLetters ? [SagasController, DeadLettersController] : [SagasController],
      providers: [
        { provide: SagasService, useValue: sagas },
        ...(deadLetters ? [{ provide: DeadLettersService, useValue: deadLetters }] : []),
      ],
    };
  }
}
