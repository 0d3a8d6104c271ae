import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PortDescription, type PortProtocol, protocolOfPort } from './protocol.ts';

const cases: { name: string; port: PortDescription; want: PortProtocol }[] = [
  { name: 'nothing set', port: {}, want: 'unknown' },
  { name: 'an unprefixed name', port: { name: 'web' }, want: 'unknown' },
  { name: 'name http', port: { name: 'http' }, want: 'HTTP' },
  { name: 'name http-something', port: { name: 'http-something' }, want: 'HTTP' },
  { name: 'name HTTP2-api (any case)', port: { name: 'HTTP2-api' }, want: 'HTTP2' },
  { name: 'name https', port: { name: 'https' }, want: 'HTTPS' },
  { name: 'name grpc-api', port: { name: 'grpc-api' }, want: 'GRPC' },
  { name: 'name grpc-web', port: { name: 'grpc-web' }, want: 'GRPC-Web' },
  { name: 'name grpc-web-x', port: { name: 'grpc-web-x' }, want: 'GRPC-Web' },
  { name: 'name grpcweb-x, which is not grpc-web', port: { name: 'grpcweb-x' }, want: 'unknown' },
  { name: 'name tcp-db', port: { name: 'tcp-db' }, want: 'TCP' },
  { name: 'name tls', port: { name: 'tls' }, want: 'TLS' },
  { name: 'name mongo', port: { name: 'mongo' }, want: 'Mongo' },
  { name: 'name redis-cache', port: { name: 'redis-cache' }, want: 'Redis' },
  { name: 'name mysql', port: { name: 'mysql' }, want: 'MySQL' },
  { name: 'name udp-dns', port: { name: 'udp-dns' }, want: 'UDP' },
  { name: 'name httpx, a prefix only up to the dash', port: { name: 'httpx' }, want: 'unknown' },
  { name: 'a suffix that names a protocol', port: { name: 'something-http' }, want: 'unknown' },
  {
    name: 'appProtocol over the name',
    port: { name: 'http-something', appProtocol: 'https' },
    want: 'HTTPS',
  },
  {
    name: 'appProtocol over a name that says nothing',
    port: { name: 'something-httpx', appProtocol: 'https' },
    want: 'HTTPS',
  },
  { name: 'appProtocol grpc', port: { appProtocol: 'grpc' }, want: 'GRPC' },
  {
    name: 'appProtocol kubernetes.io/h2c',
    port: { name: 'random', appProtocol: 'kubernetes.io/h2c' },
    want: 'HTTP2',
  },
  { name: 'appProtocol kubernetes.io/ws', port: { appProtocol: 'kubernetes.io/ws' }, want: 'HTTP' },
  { name: 'appProtocol kubernetes.io/wss', port: { appProtocol: 'kubernetes.io/wss' }, want: 'HTTPS' },
  {
    name: 'an empty appProtocol, which still wins',
    port: { name: 'http', appProtocol: '' },
    want: 'unknown',
  },
  {
    name: 'an unknown appProtocol, which still wins',
    port: { name: 'http', appProtocol: 'example.com/x' },
    want: 'unknown',
  },
  { name: 'transport UDP over any name', port: { name: 'http', protocol: 'UDP' }, want: 'UDP' },
  { name: 'transport SCTP, read by name', port: { name: 'http', protocol: 'SCTP' }, want: 'HTTP' },
  { name: 'an unknown name on MySQL port 3306', port: { name: 'random-name', port: 3306 }, want: 'TCP' },
  { name: 'an unknown name on DNS port 53', port: { port: 53 }, want: 'TCP' },
  { name: 'an unknown name on SMTP port 25', port: { port: 25 }, want: 'TCP' },
  { name: 'an unknown name on MongoDB port 27017', port: { port: 27017 }, want: 'TCP' },
  { name: 'a named protocol on a well-known port', port: { name: 'http', port: 3306 }, want: 'HTTP' },
  { name: 'an unknown name on port 8080', port: { name: 'web', port: 8080 }, want: 'unknown' },
];

describe('protocolOfPort', () => {
  for (const c of cases) {
    it(`protocolOfPort: gives ${c.want} for ${c.name}`, () => {
      assert.equal(protocolOfPort(c.port), c.want, `port ${JSON.stringify(c.port)}`);
    });
  }
});
