import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Binding } from '../binding';

export class ContactSourceDto {
  @ApiProperty({ enum: ['udp', 'tcp', 'tls', 'ws', 'wss'] }) protocol!: string;
  @ApiProperty() address!: string;
  @ApiProperty() port!: number;
}

export class ContactDto {
  @ApiProperty({ description: 'Opaque id, for DELETE' }) id!: string;
  @ApiProperty({ example: 'sip:alice@192.0.2.10:5060' }) uri!: string;
  @ApiProperty({ description: 'Seconds until the binding expires' }) expires!: number;
  @ApiProperty() expiresAt!: string;
  @ApiPropertyOptional() q?: number;
  @ApiProperty() callId!: string;
  @ApiProperty() cseq!: number;
  @ApiPropertyOptional() instance?: string;
  @ApiPropertyOptional() regId?: number;
  @ApiProperty({ type: [String] }) path!: string[];
  @ApiProperty() userAgent!: string;
  @ApiPropertyOptional({ description: 'For a binding learned from reginfo: the subscription it came from' })
  origin?: string;
  @ApiProperty({ type: ContactSourceDto }) source!: ContactSourceDto;
  @ApiProperty() registeredAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RegistrationDto {
  @ApiProperty({ example: 'sip:alice@example.com' }) aor!: string;
  @ApiProperty({ example: 'location' }) domain!: string;
  @ApiProperty({ type: [ContactDto] }) contacts!: ContactDto[];
}

export class RegistrationPageDto {
  @ApiProperty({ type: [RegistrationDto] }) items!: RegistrationDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}

export class AttributeDto {
  @ApiProperty() aor!: string;
  @ApiProperty() key!: string;
  @ApiProperty() value!: string;
}

export class PutAttributeDto {
  @ApiProperty({ description: 'The attribute value (a string)' }) value!: string;
}

export function toContactDto(b: Binding, now: number): ContactDto {
  return {
    id: b.id,
    uri: b.uri,
    expires: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
    expiresAt: new Date(b.expiresAt).toISOString(),
    q: b.q,
    callId: b.callId,
    cseq: b.cseq,
    instance: b.instance,
    regId: b.regId,
    path: [...b.path],
    userAgent: b.userAgent,
    ...(b.origin !== undefined && { origin: b.origin }),
    source: { protocol: b.source.protocol, address: b.source.remoteAddress, port: b.source.remotePort },
    registeredAt: new Date(b.createdAt).toISOString(),
    updatedAt: new Date(b.updatedAt).toISOString(),
  };
}
