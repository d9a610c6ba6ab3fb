/* eslint-disable */
/* prettier-ignore */

export type introspection_types = {
  Boolean: unknown;
  CreateExecutionInput: {
    kind: 'INPUT_OBJECT';
    name: 'CreateExecutionInput';
    isOneOf: false;
    inputFields: [
      { name: 'heartbeatTimeoutSeconds'; type: { kind: 'SCALAR'; name: 'Int'; ofType: null }; defaultValue: null },
      { name: 'idempotencyKey'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'initiatedBy'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'inputs'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'metadata'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'parentExecutionId'; type: { kind: 'SCALAR'; name: 'ID'; ofType: null }; defaultValue: null },
      { name: 'resolvedVariables'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'retryOf'; type: { kind: 'SCALAR'; name: 'ID'; ofType: null }; defaultValue: null },
      {
        name: 'tags';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'INPUT_OBJECT'; name: 'TagInput'; ofType: null } };
        };
        defaultValue: null;
      },
      { name: 'timeoutSeconds'; type: { kind: 'SCALAR'; name: 'Int'; ofType: null }; defaultValue: null },
      { name: 'trigger'; type: { kind: 'INPUT_OBJECT'; name: 'TriggerInput'; ofType: null }; defaultValue: null },
      {
        name: 'workflowId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
      { name: 'workflowVersion'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
    ];
  };
  CreateWebhookInput: {
    kind: 'INPUT_OBJECT';
    name: 'CreateWebhookInput';
    isOneOf: false;
    inputFields: [
      { name: 'description'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      {
        name: 'events';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
          };
        };
        defaultValue: null;
      },
      { name: 'filter'; type: { kind: 'INPUT_OBJECT'; name: 'WebhookFilterInput'; ofType: null }; defaultValue: null },
      {
        name: 'url';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
    ];
  };
  CreateWebhookResult: {
    kind: 'OBJECT';
    name: 'CreateWebhookResult';
    fields: {
      secret: {
        name: 'secret';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      webhook: {
        name: 'webhook';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Webhook'; ofType: null } };
      };
    };
  };
  DateTime: unknown;
  Environment: { name: 'Environment'; enumValues: 'LIVE' | 'TEST' };
  Execution: {
    kind: 'OBJECT';
    name: 'Execution';
    fields: {
      attempt: {
        name: 'attempt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      children: {
        name: 'children';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionConnection'; ofType: null } };
      };
      completedAt: { name: 'completedAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      createdAt: {
        name: 'createdAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      deadlineAt: { name: 'deadlineAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      durationMs: { name: 'durationMs'; type: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      environment: {
        name: 'environment';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'Environment'; ofType: null } };
      };
      error: { name: 'error'; type: { kind: 'OBJECT'; name: 'ExecutionError'; ofType: null } };
      events: {
        name: 'events';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: {
              kind: 'NON_NULL';
              name: never;
              ofType: { kind: 'INTERFACE'; name: 'ExecutionEvent'; ofType: null };
            };
          };
        };
      };
      heartbeatTimeoutSeconds: { name: 'heartbeatTimeoutSeconds'; type: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      id: { name: 'id'; type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } } };
      initiatedBy: { name: 'initiatedBy'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      inputs: { name: 'inputs'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      lastSequence: {
        name: 'lastSequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      logBytes: {
        name: 'logBytes';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      logTruncated: {
        name: 'logTruncated';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      logs: {
        name: 'logs';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'LogEvent'; ofType: null } };
          };
        };
      };
      metadata: { name: 'metadata'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      organizationId: {
        name: 'organizationId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      output: { name: 'output'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      parent: { name: 'parent'; type: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      parentExecutionId: { name: 'parentExecutionId'; type: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      pinned: {
        name: 'pinned';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      progress: { name: 'progress'; type: { kind: 'OBJECT'; name: 'Progress'; ofType: null } };
      resolvedVariables: { name: 'resolvedVariables'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      retries: {
        name: 'retries';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
          };
        };
      };
      retryOf: { name: 'retryOf'; type: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      rootExecutionId: {
        name: 'rootExecutionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      startedAt: { name: 'startedAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      stats: {
        name: 'stats';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionStats'; ofType: null } };
      };
      status: {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
      };
      steps: {
        name: 'steps';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionStep'; ofType: null } };
          };
        };
      };
      tags: {
        name: 'tags';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Tag'; ofType: null } };
          };
        };
      };
      timeoutSeconds: { name: 'timeoutSeconds'; type: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      trigger: {
        name: 'trigger';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Trigger'; ofType: null } };
      };
      updatedAt: {
        name: 'updatedAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      workflowId: {
        name: 'workflowId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      workflowVersion: { name: 'workflowVersion'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  ExecutionChange: {
    kind: 'OBJECT';
    name: 'ExecutionChange';
    fields: {
      cursor: {
        name: 'cursor';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      execution: {
        name: 'execution';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
    };
  };
  ExecutionConnection: {
    kind: 'OBJECT';
    name: 'ExecutionConnection';
    fields: {
      edges: {
        name: 'edges';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionEdge'; ofType: null } };
          };
        };
      };
      nodes: {
        name: 'nodes';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
          };
        };
      };
      pageInfo: {
        name: 'pageInfo';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'PageInfo'; ofType: null } };
      };
    };
  };
  ExecutionCounts: {
    kind: 'OBJECT';
    name: 'ExecutionCounts';
    fields: {
      byStatus: {
        name: 'byStatus';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'StatusCount'; ofType: null } };
          };
        };
      };
      total: {
        name: 'total';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
    };
  };
  ExecutionEdge: {
    kind: 'OBJECT';
    name: 'ExecutionEdge';
    fields: {
      cursor: {
        name: 'cursor';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      node: {
        name: 'node';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
    };
  };
  ExecutionError: {
    kind: 'OBJECT';
    name: 'ExecutionError';
    fields: {
      code: {
        name: 'code';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      details: { name: 'details'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      message: {
        name: 'message';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      step: { name: 'step'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  ExecutionErrorInput: {
    kind: 'INPUT_OBJECT';
    name: 'ExecutionErrorInput';
    isOneOf: false;
    inputFields: [
      {
        name: 'code';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
      { name: 'details'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      {
        name: 'message';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
      { name: 'step'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
    ];
  };
  ExecutionEvent: {
    kind: 'INTERFACE';
    name: 'ExecutionEvent';
    fields: {
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
    possibleTypes:
      | 'LogEvent'
      | 'MessageEvent'
      | 'ProgressEvent'
      | 'StatusChangedEvent'
      | 'StepEvent'
      | 'TagsChangedEvent';
  };
  ExecutionEventInput: {
    kind: 'INPUT_OBJECT';
    name: 'ExecutionEventInput';
    isOneOf: false;
    inputFields: [
      { name: 'log'; type: { kind: 'INPUT_OBJECT'; name: 'LogInput'; ofType: null }; defaultValue: null },
      { name: 'message'; type: { kind: 'INPUT_OBJECT'; name: 'MessageInput'; ofType: null }; defaultValue: null },
      { name: 'occurredAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null }; defaultValue: null },
      { name: 'progress'; type: { kind: 'INPUT_OBJECT'; name: 'ProgressInput'; ofType: null }; defaultValue: null },
      {
        name: 'statusChanged';
        type: { kind: 'INPUT_OBJECT'; name: 'StatusChangedInput'; ofType: null };
        defaultValue: null;
      },
      { name: 'step'; type: { kind: 'INPUT_OBJECT'; name: 'StepInput'; ofType: null }; defaultValue: null },
      { name: 'tags'; type: { kind: 'INPUT_OBJECT'; name: 'TagsInput'; ofType: null }; defaultValue: null },
    ];
  };
  ExecutionEventType: {
    name: 'ExecutionEventType';
    enumValues: 'LOG' | 'MESSAGE' | 'PROGRESS' | 'STATUS_CHANGED' | 'STEP' | 'TAGS_CHANGED';
  };
  ExecutionFilter: {
    kind: 'INPUT_OBJECT';
    name: 'ExecutionFilter';
    isOneOf: false;
    inputFields: [
      { name: 'createdAfter'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null }; defaultValue: null },
      { name: 'createdBefore'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null }; defaultValue: null },
      { name: 'idPrefix'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'parentExecutionId'; type: { kind: 'SCALAR'; name: 'ID'; ofType: null }; defaultValue: null },
      { name: 'rootExecutionId'; type: { kind: 'SCALAR'; name: 'ID'; ofType: null }; defaultValue: null },
      {
        name: 'status';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
        };
        defaultValue: null;
      },
      {
        name: 'tags';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'INPUT_OBJECT'; name: 'TagInput'; ofType: null } };
        };
        defaultValue: null;
      },
      { name: 'workflowId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'workflowIdPrefix'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
    ];
  };
  ExecutionOverview: {
    kind: 'OBJECT';
    name: 'ExecutionOverview';
    fields: {
      bucketSeconds: {
        name: 'bucketSeconds';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      buckets: {
        name: 'buckets';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'OverviewBucket'; ofType: null } };
          };
        };
      };
      from: {
        name: 'from';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      to: {
        name: 'to';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      workflows: {
        name: 'workflows';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: {
              kind: 'NON_NULL';
              name: never;
              ofType: { kind: 'OBJECT'; name: 'WorkflowDurations'; ofType: null };
            };
          };
        };
      };
    };
  };
  ExecutionStats: {
    kind: 'OBJECT';
    name: 'ExecutionStats';
    fields: {
      completedMessages: {
        name: 'completedMessages';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      failedMessages: {
        name: 'failedMessages';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      inProgressMessages: {
        name: 'inProgressMessages';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      successRate: {
        name: 'successRate';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      totalMessages: {
        name: 'totalMessages';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
    };
  };
  ExecutionStatus: {
    name: 'ExecutionStatus';
    enumValues:
      | 'CANCELLED'
      | 'COMPLETED'
      | 'FAILED'
      | 'INTERRUPTED'
      | 'PENDING'
      | 'RUNNING'
      | 'TIMED_OUT'
      | 'WAITING_FOR_INPUT';
  };
  ExecutionStatusTarget: { name: 'ExecutionStatusTarget'; enumValues: 'CANCELLED' | 'COMPLETED' | 'FAILED' };
  ExecutionStatusUpdateResult: {
    kind: 'OBJECT';
    name: 'ExecutionStatusUpdateResult';
    fields: {
      currentStatus: {
        name: 'currentStatus';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
      };
      execution: {
        name: 'execution';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
      message: {
        name: 'message';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      previousStatus: {
        name: 'previousStatus';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
      };
      success: {
        name: 'success';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
    };
  };
  ExecutionStep: {
    kind: 'OBJECT';
    name: 'ExecutionStep';
    fields: {
      artifacts: { name: 'artifacts'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      columns: { name: 'columns'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      completedAt: { name: 'completedAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      durationMs: { name: 'durationMs'; type: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      error: { name: 'error'; type: { kind: 'OBJECT'; name: 'ExecutionError'; ofType: null } };
      id: {
        name: 'id';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      name: { name: 'name'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      outputs: { name: 'outputs'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      rowCounts: { name: 'rowCounts'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      skipped: {
        name: 'skipped';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      startedAt: { name: 'startedAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      status: {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'StepStatus'; ofType: null } };
      };
      type: { name: 'type'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  ExecutionWaitResult: {
    kind: 'OBJECT';
    name: 'ExecutionWaitResult';
    fields: {
      completed: {
        name: 'completed';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      durationMs: {
        name: 'durationMs';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      execution: {
        name: 'execution';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
      message: { name: 'message'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  ExecutionsWaitResult: {
    kind: 'OBJECT';
    name: 'ExecutionsWaitResult';
    fields: {
      completed: {
        name: 'completed';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      durationMs: {
        name: 'durationMs';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      executions: {
        name: 'executions';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
          };
        };
      };
      message: { name: 'message'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  Float: unknown;
  ID: unknown;
  Int: unknown;
  JSON: unknown;
  LogEvent: {
    kind: 'OBJECT';
    name: 'LogEvent';
    fields: {
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      level: { name: 'level'; type: { kind: 'ENUM'; name: 'LogLevel'; ofType: null } };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      stream: {
        name: 'stream';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      text: {
        name: 'text';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
  };
  LogInput: {
    kind: 'INPUT_OBJECT';
    name: 'LogInput';
    isOneOf: false;
    inputFields: [
      { name: 'level'; type: { kind: 'ENUM'; name: 'LogLevel'; ofType: null }; defaultValue: null },
      { name: 'stream'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: '"stdout"' },
      {
        name: 'text';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
    ];
  };
  LogLevel: { name: 'LogLevel'; enumValues: 'DEBUG' | 'ERROR' | 'INFO' | 'WARN' };
  MessageEvent: {
    kind: 'OBJECT';
    name: 'MessageEvent';
    fields: {
      adapter: { name: 'adapter'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      error: { name: 'error'; type: { kind: 'OBJECT'; name: 'ExecutionError'; ofType: null } };
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      messageId: {
        name: 'messageId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      status: {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'MessageStatus'; ofType: null } };
      };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
  };
  MessageInput: {
    kind: 'INPUT_OBJECT';
    name: 'MessageInput';
    isOneOf: false;
    inputFields: [
      { name: 'adapter'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'error'; type: { kind: 'INPUT_OBJECT'; name: 'ExecutionErrorInput'; ofType: null }; defaultValue: null },
      {
        name: 'messageId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
      {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'MessageStatus'; ofType: null } };
        defaultValue: null;
      },
    ];
  };
  MessageStatus: { name: 'MessageStatus'; enumValues: 'COMPLETED' | 'FAILED' | 'INITIATED' | 'PROCESSING' };
  Mutation: {
    kind: 'OBJECT';
    name: 'Mutation';
    fields: {
      createExecution: {
        name: 'createExecution';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
      createWebhook: {
        name: 'createWebhook';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'CreateWebhookResult'; ofType: null } };
      };
      deleteWebhook: {
        name: 'deleteWebhook';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Webhook'; ofType: null } };
      };
      recordExecutionEvents: {
        name: 'recordExecutionEvents';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: { kind: 'OBJECT'; name: 'RecordExecutionEventsResult'; ofType: null };
        };
      };
      redeliverWebhook: {
        name: 'redeliverWebhook';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'WebhookDelivery'; ofType: null } };
      };
      updateExecutionStatus: {
        name: 'updateExecutionStatus';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: { kind: 'OBJECT'; name: 'ExecutionStatusUpdateResult'; ofType: null };
        };
      };
    };
  };
  OverviewBucket: {
    kind: 'OBJECT';
    name: 'OverviewBucket';
    fields: {
      byStatus: {
        name: 'byStatus';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'StatusCount'; ofType: null } };
          };
        };
      };
      start: {
        name: 'start';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      total: {
        name: 'total';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
    };
  };
  PageInfo: {
    kind: 'OBJECT';
    name: 'PageInfo';
    fields: {
      endCursor: { name: 'endCursor'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      hasNextPage: {
        name: 'hasNextPage';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
    };
  };
  Progress: {
    kind: 'OBJECT';
    name: 'Progress';
    fields: {
      percentage: {
        name: 'percentage';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      step: { name: 'step'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  ProgressEvent: {
    kind: 'OBJECT';
    name: 'ProgressEvent';
    fields: {
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      percentage: {
        name: 'percentage';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      step: { name: 'step'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
  };
  ProgressInput: {
    kind: 'INPUT_OBJECT';
    name: 'ProgressInput';
    isOneOf: false;
    inputFields: [
      {
        name: 'percentage';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
        defaultValue: null;
      },
      { name: 'step'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
    ];
  };
  Query: {
    kind: 'OBJECT';
    name: 'Query';
    fields: {
      execution: { name: 'execution'; type: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      executionChangesCursor: {
        name: 'executionChangesCursor';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      executionCounts: {
        name: 'executionCounts';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionCounts'; ofType: null } };
      };
      executionOverview: {
        name: 'executionOverview';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionOverview'; ofType: null } };
      };
      executions: {
        name: 'executions';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionConnection'; ofType: null } };
      };
      viewer: {
        name: 'viewer';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Viewer'; ofType: null } };
      };
      waitForExecution: {
        name: 'waitForExecution';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionWaitResult'; ofType: null } };
      };
      waitForExecutions: {
        name: 'waitForExecutions';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionsWaitResult'; ofType: null } };
      };
      webhookDeliveries: {
        name: 'webhookDeliveries';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: { kind: 'OBJECT'; name: 'WebhookDeliveryConnection'; ofType: null };
        };
      };
      webhooks: {
        name: 'webhooks';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Webhook'; ofType: null } };
          };
        };
      };
    };
  };
  RecordExecutionEventsResult: {
    kind: 'OBJECT';
    name: 'RecordExecutionEventsResult';
    fields: {
      events: {
        name: 'events';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: {
              kind: 'NON_NULL';
              name: never;
              ofType: { kind: 'INTERFACE'; name: 'ExecutionEvent'; ofType: null };
            };
          };
        };
      };
      execution: {
        name: 'execution';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
    };
  };
  StatusChangedEvent: {
    kind: 'OBJECT';
    name: 'StatusChangedEvent';
    fields: {
      error: { name: 'error'; type: { kind: 'OBJECT'; name: 'ExecutionError'; ofType: null } };
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      from: {
        name: 'from';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
      };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      to: {
        name: 'to';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
      };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
  };
  StatusChangedInput: {
    kind: 'INPUT_OBJECT';
    name: 'StatusChangedInput';
    isOneOf: false;
    inputFields: [
      { name: 'error'; type: { kind: 'INPUT_OBJECT'; name: 'ExecutionErrorInput'; ofType: null }; defaultValue: null },
      { name: 'output'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      {
        name: 'to';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
        defaultValue: null;
      },
    ];
  };
  StatusCount: {
    kind: 'OBJECT';
    name: 'StatusCount';
    fields: {
      count: {
        name: 'count';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      status: {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
      };
    };
  };
  StepEvent: {
    kind: 'OBJECT';
    name: 'StepEvent';
    fields: {
      artifacts: { name: 'artifacts'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      columns: { name: 'columns'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      error: { name: 'error'; type: { kind: 'OBJECT'; name: 'ExecutionError'; ofType: null } };
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      name: { name: 'name'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      outputs: { name: 'outputs'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      rowCounts: { name: 'rowCounts'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      skipped: { name: 'skipped'; type: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      status: {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'StepStatus'; ofType: null } };
      };
      stepId: {
        name: 'stepId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      stepType: { name: 'stepType'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
  };
  StepInput: {
    kind: 'INPUT_OBJECT';
    name: 'StepInput';
    isOneOf: false;
    inputFields: [
      { name: 'artifacts'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'columns'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'error'; type: { kind: 'INPUT_OBJECT'; name: 'ExecutionErrorInput'; ofType: null }; defaultValue: null },
      { name: 'name'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'outputs'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'rowCounts'; type: { kind: 'SCALAR'; name: 'JSON'; ofType: null }; defaultValue: null },
      { name: 'skipped'; type: { kind: 'SCALAR'; name: 'Boolean'; ofType: null }; defaultValue: null },
      {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'StepStatus'; ofType: null } };
        defaultValue: null;
      },
      {
        name: 'stepId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
      { name: 'type'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
    ];
  };
  StepStatus: {
    name: 'StepStatus';
    enumValues: 'CANCELLED' | 'COMPLETED' | 'FAILED' | 'PENDING' | 'RUNNING' | 'SKIPPED';
  };
  String: unknown;
  Subscription: {
    kind: 'OBJECT';
    name: 'Subscription';
    fields: {
      executionChanges: {
        name: 'executionChanges';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'ExecutionChange'; ofType: null } };
      };
      executionEvents: {
        name: 'executionEvents';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'INTERFACE'; name: 'ExecutionEvent'; ofType: null } };
      };
      executionUpdated: {
        name: 'executionUpdated';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Execution'; ofType: null } };
      };
    };
  };
  Tag: {
    kind: 'OBJECT';
    name: 'Tag';
    fields: {
      key: {
        name: 'key';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      value: {
        name: 'value';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
    };
  };
  TagInput: {
    kind: 'INPUT_OBJECT';
    name: 'TagInput';
    isOneOf: false;
    inputFields: [
      {
        name: 'key';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
      {
        name: 'value';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
    ];
  };
  TagsChangedEvent: {
    kind: 'OBJECT';
    name: 'TagsChangedEvent';
    fields: {
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      occurredAt: {
        name: 'occurredAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      removed: {
        name: 'removed';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
          };
        };
      };
      sequence: {
        name: 'sequence';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      set: {
        name: 'set';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Tag'; ofType: null } };
          };
        };
      };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionEventType'; ofType: null } };
      };
    };
  };
  TagsInput: {
    kind: 'INPUT_OBJECT';
    name: 'TagsInput';
    isOneOf: false;
    inputFields: [
      {
        name: 'remove';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        };
        defaultValue: null;
      },
      {
        name: 'set';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'INPUT_OBJECT'; name: 'TagInput'; ofType: null } };
        };
        defaultValue: null;
      },
    ];
  };
  Trigger: {
    kind: 'OBJECT';
    name: 'Trigger';
    fields: {
      entityId: { name: 'entityId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      entityType: { name: 'entityType'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      eventId: { name: 'eventId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      eventType: { name: 'eventType'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
    };
  };
  TriggerInput: {
    kind: 'INPUT_OBJECT';
    name: 'TriggerInput';
    isOneOf: false;
    inputFields: [
      { name: 'entityId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'entityType'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'eventId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      { name: 'eventType'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
      {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
        defaultValue: null;
      },
    ];
  };
  Viewer: {
    kind: 'OBJECT';
    name: 'Viewer';
    fields: {
      authenticated: {
        name: 'authenticated';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      environment: {
        name: 'environment';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'Environment'; ofType: null } };
      };
      organizationId: {
        name: 'organizationId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      scopes: {
        name: 'scopes';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
          };
        };
      };
    };
  };
  WaitMode: { name: 'WaitMode'; enumValues: 'ALL' | 'ANY' };
  Webhook: {
    kind: 'OBJECT';
    name: 'Webhook';
    fields: {
      createdAt: {
        name: 'createdAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      description: { name: 'description'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      disabledAt: { name: 'disabledAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      disabledReason: { name: 'disabledReason'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      enabled: {
        name: 'enabled';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
      events: {
        name: 'events';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
          };
        };
      };
      filter: { name: 'filter'; type: { kind: 'OBJECT'; name: 'WebhookFilter'; ofType: null } };
      id: { name: 'id'; type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } } };
      url: {
        name: 'url';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
    };
  };
  WebhookAttempt: {
    kind: 'OBJECT';
    name: 'WebhookAttempt';
    fields: {
      attempt: {
        name: 'attempt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      durationMs: {
        name: 'durationMs';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      error: { name: 'error'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      responseExcerpt: { name: 'responseExcerpt'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      startedAt: {
        name: 'startedAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      statusCode: { name: 'statusCode'; type: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      success: {
        name: 'success';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Boolean'; ofType: null } };
      };
    };
  };
  WebhookDelivery: {
    kind: 'OBJECT';
    name: 'WebhookDelivery';
    fields: {
      attemptCount: {
        name: 'attemptCount';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      attempts: {
        name: 'attempts';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'WebhookAttempt'; ofType: null } };
          };
        };
      };
      completedAt: { name: 'completedAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      createdAt: {
        name: 'createdAt';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      };
      executionId: {
        name: 'executionId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
      id: { name: 'id'; type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } } };
      lastError: { name: 'lastError'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      lastStatusCode: { name: 'lastStatusCode'; type: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      nextAttemptAt: { name: 'nextAttemptAt'; type: { kind: 'SCALAR'; name: 'DateTime'; ofType: null } };
      payload: {
        name: 'payload';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'JSON'; ofType: null } };
      };
      status: {
        name: 'status';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'WebhookDeliveryStatus'; ofType: null } };
      };
      type: {
        name: 'type';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      webhookId: {
        name: 'webhookId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'ID'; ofType: null } };
      };
    };
  };
  WebhookDeliveryConnection: {
    kind: 'OBJECT';
    name: 'WebhookDeliveryConnection';
    fields: {
      edges: {
        name: 'edges';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: {
              kind: 'NON_NULL';
              name: never;
              ofType: { kind: 'OBJECT'; name: 'WebhookDeliveryEdge'; ofType: null };
            };
          };
        };
      };
      nodes: {
        name: 'nodes';
        type: {
          kind: 'NON_NULL';
          name: never;
          ofType: {
            kind: 'LIST';
            name: never;
            ofType: {
              kind: 'NON_NULL';
              name: never;
              ofType: { kind: 'OBJECT'; name: 'WebhookDelivery'; ofType: null };
            };
          };
        };
      };
      pageInfo: {
        name: 'pageInfo';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'PageInfo'; ofType: null } };
      };
    };
  };
  WebhookDeliveryEdge: {
    kind: 'OBJECT';
    name: 'WebhookDeliveryEdge';
    fields: {
      cursor: {
        name: 'cursor';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
      node: {
        name: 'node';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'WebhookDelivery'; ofType: null } };
      };
    };
  };
  WebhookDeliveryStatus: { name: 'WebhookDeliveryStatus'; enumValues: 'FAILED' | 'PENDING' | 'SUCCEEDED' };
  WebhookFilter: {
    kind: 'OBJECT';
    name: 'WebhookFilter';
    fields: {
      status: {
        name: 'status';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
        };
      };
      tags: {
        name: 'tags';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'OBJECT'; name: 'Tag'; ofType: null } };
        };
      };
      workflowId: { name: 'workflowId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null } };
    };
  };
  WebhookFilterInput: {
    kind: 'INPUT_OBJECT';
    name: 'WebhookFilterInput';
    isOneOf: false;
    inputFields: [
      {
        name: 'status';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'ENUM'; name: 'ExecutionStatus'; ofType: null } };
        };
        defaultValue: null;
      },
      {
        name: 'tags';
        type: {
          kind: 'LIST';
          name: never;
          ofType: { kind: 'NON_NULL'; name: never; ofType: { kind: 'INPUT_OBJECT'; name: 'TagInput'; ofType: null } };
        };
        defaultValue: null;
      },
      { name: 'workflowId'; type: { kind: 'SCALAR'; name: 'String'; ofType: null }; defaultValue: null },
    ];
  };
  WorkflowDurations: {
    kind: 'OBJECT';
    name: 'WorkflowDurations';
    fields: {
      finished: {
        name: 'finished';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Int'; ofType: null } };
      };
      p50Ms: {
        name: 'p50Ms';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      p95Ms: {
        name: 'p95Ms';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'Float'; ofType: null } };
      };
      workflowId: {
        name: 'workflowId';
        type: { kind: 'NON_NULL'; name: never; ofType: { kind: 'SCALAR'; name: 'String'; ofType: null } };
      };
    };
  };
};

/** An IntrospectionQuery representation of your schema.
 *
 * @remarks
 * This is an introspection of your schema saved as a file by GraphQLSP.
 * It will automatically be used by `gql.tada` to infer the types of your GraphQL documents.
 * If you need to reuse this data or update your `scalars`, update `tadaOutputLocation` to
 * instead save to a .ts instead of a .d.ts file.
 */
export type introspection = {
  name: never;
  query: 'Query';
  mutation: 'Mutation';
  subscription: 'Subscription';
  types: introspection_types;
};

import * as gqlTada from 'gql.tada';

declare module 'gql.tada' {
  interface setupSchema {
    introspection: introspection;
  }
}
