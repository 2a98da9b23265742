/**
 * A failure inside an execution, with the error name Retry and Catch match (`States.Runtime`,
 * `States.TaskFailed`, a task's own name …) and the cause AWS would report.
 */
export class StatesError extends Error {
  readonly error: string
  override readonly cause: string | undefined

  constructor(error: string, cause?: string) {
    super(cause === undefined ? error : `${error}: ${cause}`)
    this.name = 'StatesError'
    this.error = error
    this.cause = cause
  }
}
