/**
 * A Task's Resource: an ARN, a deployment-time ${Name} substitution (CloudFormation, SAM, CDK), or
 * a CloudFormation intrinsic object such as { "Ref": … } or { "Fn::GetAtt": … }.
 */
import type { Checker } from './checker.ts'
import { describe, isObject } from './issues.ts'

const ARN = /^arn:[a-z0-9-]+:[A-Za-z0-9-]+:[^:]*:[^:]*:.+$/
const LAMBDA_FUNCTION = /^arn:[a-z0-9-]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.*))?$/
/** A Lambda qualifier: $LATEST, a version number or an alias. */
const QUALIFIER = /^(\$LATEST|[A-Za-z0-9_-]+)$/
const SUBSTITUTION = /\$\{[^{}]+\}/g
const INTEGRATION = /^arn:[a-z0-9-]+:states:::[^:]+:[^:]+?\.(sync|waitForTaskToken)(:\d+)?$/

export function checkResource(c: Checker, resource: unknown, pointer: string): void {
  if (isObject(resource)) {
    const keys = Object.keys(resource)
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) return
    c.report(
      pointer,
      'RESOURCE_INVALID',
      'Resource as an object must be a single CloudFormation intrinsic such as { "Ref": … } or { "Fn::GetAtt": … }',
    )
    return
  }
  if (!c.string(resource, pointer, 'Resource')) return
  if (resource.includes('${')) {
    if (resource.replace(SUBSTITUTION, '').includes('${'))
      c.report(pointer, 'RESOURCE_INVALID', `Resource has an unclosed \${…} substitution: ${describe(resource)}`)
    return
  }
  if (!ARN.test(resource)) {
    c.report(
      pointer,
      'RESOURCE_INVALID',
      `Resource must be an ARN (arn:partition:service:region:account:resource), got ${describe(resource)}`,
    )
    return
  }
  const lambda = LAMBDA_FUNCTION.exec(resource)
  if (lambda && lambda[2] !== undefined && !QUALIFIER.test(lambda[2])) {
    c.report(pointer, 'RESOURCE_INVALID', `a Lambda function qualifier must be $LATEST, a version or an alias, got ${describe(lambda[2])}`)
  }
  const integration = INTEGRATION.exec(resource)
  if (integration && c.machineType === 'EXPRESS') {
    c.report(
      pointer,
      'EXPRESS_UNSUPPORTED_INTEGRATION',
      `an EXPRESS state machine does not support the '.${integration[1]}' service integration`,
    )
  }
}
