import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** POST /api/b2b/subscriptions. */
export class CreateB2bSubscriptionDto {
  @ApiProperty({ example: 'sip:carol@remote.example', description: 'A presentity whose domain is not served here' })
  presentity!: string;
  @ApiPropertyOptional({ example: 'presence', description: 'Event package (default presence); any the remote offers' })
  event?: string;
  @ApiPropertyOptional({
    example: 'sip:hub@example.com',
    description: 'The SIP subscriber identity (From); default b2b.watcherIdentity',
  })
  watcher?: string;
  @ApiPropertyOptional({ example: 3600, description: 'Expires of the SUBSCRIBEs (default b2b.defaultExpiration)' })
  expires?: number;
}

/** The SIP subscription at the remote server, as the outgoing client holds it. */
export class B2bRemoteDto {
  @ApiProperty({ enum: ['sending', 'pending', 'active', 'retrying', 'terminated', 'removing'] }) state!: string;
  @ApiProperty({ nullable: true, type: String, description: 'When it runs out at the remote server' })
  expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Next attempt while retrying' }) retryAt!: string | null;
  @ApiProperty({ description: 'Status of the last response or terminating NOTIFY (0: none yet)' }) lastStatus!: number;
  @ApiProperty() lastReason!: string;
  @ApiProperty({ description: 'The SIP dialog (Call-ID, tags, route set, target); null before one exists' })
  dialog!: unknown;
  @ApiProperty({ description: 'Local watchers this remote subscription serves (shared when more than one)' })
  subscribers!: number;
}

/** The remote state last received. */
export class B2bStateDto {
  @ApiProperty({ example: 'application/pidf+xml' }) contentType!: string;
  @ApiProperty({ description: 'The document as the remote NOTIFY carried it' }) body!: string;
  @ApiProperty({ description: "The package's JSON form (presence: as the WebSocket renders it)" }) json!: unknown;
  @ApiProperty() receivedAt!: string;
}

export class B2bSubscriptionDto {
  @ApiProperty() id!: string;
  @ApiProperty() presentity!: string;
  @ApiProperty() event!: string;
  @ApiProperty() watcher!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: B2bRemoteDto, nullable: true, description: 'null while the SUBSCRIBE waits its turn' })
  remote!: B2bRemoteDto | null;
  @ApiProperty({ type: B2bStateDto, nullable: true, description: 'null until a NOTIFY carried a document' })
  state!: B2bStateDto | null;
}

export class B2bSubscriptionListDto {
  @ApiProperty({ type: [B2bSubscriptionDto] }) items!: B2bSubscriptionDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}
