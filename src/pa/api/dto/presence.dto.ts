import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Answer to a publish: the new entity tag (also in the ETag header) and the granted expiry. */
export class PublishedDto {
  @ApiProperty({ description: 'Entity tag of the publication; send it as If-Match to refresh or modify it' })
  etag!: string;

  @ApiProperty({ description: 'Granted expiry in seconds', example: 3600 })
  expires!: number;
}

/** REST error body, as the global filter writes it. */
export class ApiErrorDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'status must be "open" or "closed", got "away"' }) message!: string;
  @ApiPropertyOptional({ example: 'status', description: 'The request field at fault' }) field?: string;
}
