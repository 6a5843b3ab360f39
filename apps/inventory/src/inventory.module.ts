import { Module, type DynamicModule } from '@nestjs/common';
import { ProductsController } from './products.controller';
import { ProductsService } from './products.service';

@Module({})
export class InventoryModule {
  static register(products: ProductsService): DynamicModule {
    return {
      module: InventoryModule,
      controllers: [ProductsController],
      providers: [{ provide: ProductsService, useValue: products }],
    };
  }
}
