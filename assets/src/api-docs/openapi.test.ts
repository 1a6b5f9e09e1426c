import { describe, expect, it } from 'vitest'
import { buildSchema, readDocument } from './openapi'

const doc = {
  openapi: '3.1.0',
  info: { title: 'Atrium API', version: '0.1.0' },
  tags: [{ name: 'health', description: 'Probes' }],
  paths: {
    '/healthz': { get: { tags: ['health'], summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
    '/api/v1/items/{id}': {
      parameters: [{ name: 'id', in: 'path', schema: { type: 'string', format: 'uuid' } }],
      post: {
        requestBody: { $ref: '#/components/requestBodies/NewItem' },
        responses: {
          '404': { $ref: '#/components/responses/Error' },
          '200': { description: 'the item', content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
        },
      },
    },
  },
  components: {
    schemas: {
      Item: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: 'string' },
          parent: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/Item' }] },
          tags: { type: 'array', items: { type: 'string' } },
          note: { type: ['string', 'null'] },
        },
      },
      Error: { type: 'object', properties: { code: { type: 'string', enum: ['not_found'] } } },
    },
    requestBodies: {
      NewItem: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
    },
    responses: {
      Error: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  },
}

describe('readDocument', () => {
  it('groups operations by tag, untagged last, and resolves $refs', () => {
    const api = readDocument(doc)
    expect(api.title).toBe('Atrium API')
    expect(api.operationCount).toBe(2)
    expect(api.groups.map((g) => g.name)).toEqual(['health', null])
    const post = api.groups[1]?.operations[0]
    expect(post?.parameters[0]).toMatchObject({ name: 'id', location: 'path', required: true })
    expect(post?.requestBody?.required).toBe(true)
    expect(post?.responses.map((r) => r.status)).toEqual(['200', '404'])
    expect(post?.responses[1]?.contents[0]?.schema?.refName).toBe('Error')
  })

  it('marks recursive references as circular and optional values as nullable', () => {
    const item = buildSchema(doc, { $ref: '#/components/schemas/Item' })
    expect(item.kind).toBe('object')
    const parent = item.children.find((c) => c.name === 'parent')
    expect(parent).toMatchObject({ kind: 'circular', nullable: true, refName: 'Item' })
    expect(item.children.find((c) => c.name === 'note')).toMatchObject({ types: ['string'], nullable: true })
    expect(item.children.find((c) => c.name === 'id')?.required).toBe(true)
  })

  it('never throws on malformed input', () => {
    for (const bad of [null, 42, 'x', [], { paths: 3 }, { paths: { '/a': { get: 'no' } } }]) {
      expect(() => readDocument(bad)).not.toThrow()
    }
  })
})
