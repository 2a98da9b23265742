/**
 * The Map state: where its items come from (ItemsPath or Items, ItemReader), how they are grouped
 * (ItemBatcher) and shaped (ItemSelector), the nested machine that runs each (ItemProcessor, or
 * its deprecated name Iterator), and its limits.
 */
import type { Checker, NumberRule } from './checker.ts'
import type { QueryLanguage } from './fields.ts'
import { at } from './issues.ts'
import { checkResource } from './resource.ts'
import type { CheckNested } from './states.ts'

const READER_CONFIG = [
  'InputType',
  'CSVHeaderLocation',
  'CSVHeaders',
  'CSVDelimiter',
  'MaxItems',
  'MaxItemsPath',
  'ManifestType',
  'Transformation',
]
const BATCHER = ['MaxItemsPerBatch', 'MaxItemsPerBatchPath', 'MaxInputBytesPerBatch', 'MaxInputBytesPerBatchPath', 'BatchInput']

export function checkMap(c: Checker, state: Record<string, unknown>, pointer: string, language: QueryLanguage, nested: CheckNested): void {
  c.exclusive(state, pointer, 'ItemProcessor', 'Iterator')
  c.exclusive(state, pointer, 'ItemSelector', 'Parameters')
  c.exclusive(state, pointer, 'Items', 'ItemsPath')
  const processor = state.ItemProcessor !== undefined ? 'ItemProcessor' : state.Iterator !== undefined ? 'Iterator' : undefined
  if (processor) nested(state[processor], at(pointer, processor), language, 'processor')
  else c.report(pointer, 'MISSING_FIELD', 'a Map state requires ItemProcessor (or its deprecated name, Iterator)')

  if (state.ItemsPath !== undefined && language === 'JSONPath') c.path(state.ItemsPath, at(pointer, 'ItemsPath'), 'ItemsPath', 'path', true)
  if (state.Items !== undefined && language === 'JSONata') c.jsonataTemplate(state.Items, at(pointer, 'Items'))
  if (state.ItemSelector !== undefined && c.object(state.ItemSelector, at(pointer, 'ItemSelector'), 'ItemSelector')) {
    c.template(state.ItemSelector, at(pointer, 'ItemSelector'), language)
  }
  const limits: [string, NumberRule][] = [
    ['MaxConcurrency', { integer: true, min: 0 }],
    ['ToleratedFailureCount', { integer: true, min: 0 }],
    ['ToleratedFailurePercentage', { min: 0, max: 100 }],
  ]
  for (const [name, rule] of limits) {
    c.exclusive(state, pointer, name, `${name}Path`)
    if (state[name] !== undefined) c.number(state[name], at(pointer, name), name, rule, language)
    if (state[`${name}Path`] !== undefined && language === 'JSONPath')
      c.path(state[`${name}Path`], at(pointer, `${name}Path`), `${name}Path`)
  }
  if (state.Label !== undefined && c.string(state.Label, at(pointer, 'Label'), 'Label') && state.Label.length > 40) {
    c.report(at(pointer, 'Label'), 'VALUE_OUT_OF_RANGE', `Label must be at most 40 characters, got ${state.Label.length}`)
  }
  if (state.ItemReader !== undefined) checkReader(c, state.ItemReader, at(pointer, 'ItemReader'), language)
  if (state.ItemBatcher !== undefined) checkBatcher(c, state.ItemBatcher, at(pointer, 'ItemBatcher'), language)
  if (state.ResultWriter !== undefined) checkWriter(c, state.ResultWriter, at(pointer, 'ResultWriter'), language)
}

/** Parameters in JSONPath, Arguments in JSONata: the payload of an ItemReader or ResultWriter. */
function checkPayload(c: Checker, owner: Record<string, unknown>, pointer: string, language: QueryLanguage): void {
  if (owner.Parameters !== undefined) {
    if (language === 'JSONata')
      c.report(at(pointer, 'Parameters'), 'JSONPATH_ONLY_FIELD', 'Parameters is a JSONPath field; this state uses JSONata (use Arguments)')
    else c.payloadTemplate(owner.Parameters, at(pointer, 'Parameters'))
  }
  if (owner.Arguments !== undefined) {
    if (language === 'JSONPath')
      c.report(at(pointer, 'Arguments'), 'JSONATA_ONLY_FIELD', 'Arguments is a JSONata field; this state uses JSONPath (use Parameters)')
    else c.jsonataTemplate(owner.Arguments, at(pointer, 'Arguments'))
  }
}

function checkReader(c: Checker, reader: unknown, pointer: string, language: QueryLanguage): void {
  if (!c.object(reader, pointer, 'ItemReader')) return
  c.knownFields(reader, pointer, 'ItemReader', ['Resource', 'ReaderConfig', 'Parameters', 'Arguments'])
  if (c.required(reader, pointer, 'ItemReader', 'Resource')) checkResource(c, reader.Resource, at(pointer, 'Resource'))
  checkPayload(c, reader, pointer, language)
  const config = reader.ReaderConfig
  const here = at(pointer, 'ReaderConfig')
  if (config === undefined || !c.object(config, here, 'ReaderConfig')) return
  c.knownFields(config, here, 'ReaderConfig', READER_CONFIG)
  c.exclusive(config, here, 'MaxItems', 'MaxItemsPath')
  if (config.InputType !== undefined)
    c.oneOf(config.InputType, at(here, 'InputType'), 'InputType', ['CSV', 'JSON', 'JSONL', 'MANIFEST', 'PARQUET'])
  if (config.CSVHeaderLocation !== undefined)
    c.oneOf(config.CSVHeaderLocation, at(here, 'CSVHeaderLocation'), 'CSVHeaderLocation', ['FIRST_ROW', 'GIVEN'])
  if (config.MaxItems !== undefined)
    c.number(config.MaxItems, at(here, 'MaxItems'), 'MaxItems', { integer: true, min: 0, max: 100_000_000 }, language)
  if (config.MaxItemsPath !== undefined) c.path(config.MaxItemsPath, at(here, 'MaxItemsPath'), 'MaxItemsPath')
}

function checkBatcher(c: Checker, batcher: unknown, pointer: string, language: QueryLanguage): void {
  if (!c.object(batcher, pointer, 'ItemBatcher')) return
  c.knownFields(batcher, pointer, 'ItemBatcher', BATCHER)
  for (const name of ['MaxItemsPerBatch', 'MaxInputBytesPerBatch'] as const) {
    c.exclusive(batcher, pointer, name, `${name}Path`)
    if (batcher[name] !== undefined) c.number(batcher[name], at(pointer, name), name, { integer: true, min: 1 }, language)
    const path = batcher[`${name}Path`]
    if (path === undefined) continue
    if (language === 'JSONata')
      c.report(at(pointer, `${name}Path`), 'JSONPATH_ONLY_FIELD', `${name}Path is a JSONPath field; this state uses JSONata`)
    else c.path(path, at(pointer, `${name}Path`), `${name}Path`)
  }
  if (batcher.BatchInput !== undefined && c.object(batcher.BatchInput, at(pointer, 'BatchInput'), 'BatchInput')) {
    c.template(batcher.BatchInput, at(pointer, 'BatchInput'), language)
  }
}

function checkWriter(c: Checker, writer: unknown, pointer: string, language: QueryLanguage): void {
  if (!c.object(writer, pointer, 'ResultWriter')) return
  c.knownFields(writer, pointer, 'ResultWriter', ['Resource', 'Parameters', 'Arguments', 'WriterConfig'])
  if (writer.Resource !== undefined) checkResource(c, writer.Resource, at(pointer, 'Resource'))
  checkPayload(c, writer, pointer, language)
}
