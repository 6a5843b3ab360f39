import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { parseWith } from '@saga/nest-kit';
import { CreateProductSchema } from './product.dto';
import { productView } from './product.view';
import { ProductsService } from './products.service';

/** Catalog API of DESIGN §3, plus the internal product creation used by the bench and tests. */
@Controller()
export class ProductsController {
  constructor(@Inject(ProductsService) private readonly products: ProductsService) {}

  @Get('api/products')
  async list() {
    return (await this.products.list()).map(productView);
  }

  @Get('api/products/:id')
  async get(@Param('id') id: string) {
    return productView(await this.products.get(id));
  }

  @Post('internal/products')
  @HttpCode(201)
  async create(@Body() body: unknown) {
    return productView(await this.products.create(parseWith(CreateProductSchema, body)));
  }
}
