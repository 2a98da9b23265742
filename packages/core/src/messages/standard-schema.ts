/**
 * Standard Schema v1 (https://standardschema.dev), the interface zod, valibot, arktype and others
 * expose as `~standard`. The spec asks implementers to copy its types rather than depend on a
 * package; these are the spec's types, with the namespace flattened into plain names.
 */

export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>
}

export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the standard. */
  readonly version: 1
  /** The schema library's name. */
  readonly vendor: string
  /** Validates an unknown value; may answer asynchronously. */
  readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
  /** Inferred types; present only at the type level. */
  readonly types?: StandardSchemaTypes<Input, Output> | undefined
}

export type StandardSchemaResult<Output> = StandardSchemaSuccess<Output> | StandardSchemaFailure

export interface StandardSchemaSuccess<Output> {
  readonly value: Output
  readonly issues?: undefined
}

export interface StandardSchemaFailure {
  readonly issues: ReadonlyArray<StandardSchemaIssue>
}

export interface StandardSchemaIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | StandardSchemaPathSegment> | undefined
}

export interface StandardSchemaPathSegment {
  readonly key: PropertyKey
}

export interface StandardSchemaTypes<Input = unknown, Output = Input> {
  readonly input: Input
  readonly output: Output
}

export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input']

export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output']

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && '~standard' in value
}
