import { CLIENT_TARGETS, EVENT_TYPES, EXECUTION_STATUSES, MESSAGE_STATUSES, STEP_STATUSES } from '../domain/types.js';
import { builder } from './builder.js';

export const ExecutionStatusEnum = builder.enumType('ExecutionStatus', { values: EXECUTION_STATUSES });
export const ExecutionStatusTargetEnum = builder.enumType('ExecutionStatusTarget', { values: CLIENT_TARGETS });
export const ExecutionEventTypeEnum = builder.enumType('ExecutionEventType', { values: EVENT_TYPES });
export const StepStatusEnum = builder.enumType('StepStatus', {
  description: 'CANCELLED: the step was still PENDING or RUNNING when its execution ended (or a worker said so)',
  values: STEP_STATUSES,
});
export const MessageStatusEnum = builder.enumType('MessageStatus', { values: MESSAGE_STATUSES });
export const EnvironmentEnum = builder.enumType('Environment', {
  values: { TEST: { value: 'test' as const }, LIVE: { value: 'live' as const } },
});
