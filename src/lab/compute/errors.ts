// Google's error JSON for synchronous failures, and the failure record of an
// operation that ends with `error.errors`. Messages follow GCE's wording where
// it is known, so that code matching on them behaves as against GCE.

export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    errors: { message: string; domain: string; reason: string }[];
    /** Set by GCE's front end for requests it cannot parse (INVALID_ARGUMENT). */
    status?: string;
    details?: unknown[];
  };
}

/** A request that fails with an HTTP error (validation, not found, conflict...). */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly extra: { status?: string; details?: unknown[]; domain?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): GoogleErrorBody {
    const { domain = 'global', ...rest } = this.extra;
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [{ message: this.message, domain, reason: this.reason }],
        ...rest,
      },
    };
  }
}

export function notFound(path: string): ApiError {
  return new ApiError(404, 'notFound', `The resource '${path}' was not found`);
}

export function alreadyExists(path: string): ApiError {
  return new ApiError(409, 'alreadyExists', `The resource '${path}' already exists`);
}

export function invalidField(field: string, value: unknown, detail: string): ApiError {
  const shown = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  return new ApiError(400, 'invalid', `Invalid value for field '${field}': '${shown}'. ${detail}`);
}

export function invalid(message: string): ApiError {
  return new ApiError(400, 'invalid', message);
}

export function requiredField(field: string): ApiError {
  return new ApiError(400, 'required', `Required field '${field}' not specified`);
}

/** `type` as GCE spells it in this message: disk, address, targetPool, httpHealthCheck... */
export function inUse(type: string, path: string, user: string): ApiError {
  return new ApiError(
    400,
    'resourceInUseByAnotherResource',
    `The ${type} resource '${path}' is already being used by '${user}'`,
  );
}

/** Another operation on the same resource is still running (GCE serialises them). */
export function notReady(path: string): ApiError {
  return new ApiError(400, 'resourceNotReady', `The resource '${path}' is not ready`);
}

export function conditionNotMet(message: string): ApiError {
  return new ApiError(412, 'conditionNotMet', message);
}

export function urlNotFound(path: string): ApiError {
  return new ApiError(404, 'notFound', `The requested URL ${path} was not found on this server.`);
}

/**
 * GCE's synchronous throttling and quota answers. Rate limits: 403,
 * `{domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit
 * Exceeded'}` (cloud.google.com/compute/docs/troubleshooting/troubleshoot-operation-limits,
 * the audit log's `response.error`), status PERMISSION_DENIED as gcloud prints
 * it ("PERMISSION_DENIED: Quota exceeded for quota group ..."); an exhausted
 * quota: 403 quotaExceeded, "Quota 'CPUS' exceeded.  Limit: 24.0 in region ...".
 */
export function usageLimitError(reason: string, message: string, code = 403): ApiError {
  return new ApiError(code, reason, message, {
    domain: 'usageLimits',
    status: code === 429 ? 'RESOURCE_EXHAUSTED' : 'PERMISSION_DENIED',
  });
}

export const USAGE_LIMIT_MESSAGES: Readonly<Record<string, (region: string) => string>> = {
  rateLimitExceeded: () => 'Rate Limit Exceeded',
  userRateLimitExceeded: () => 'User Rate Limit Exceeded',
  quotaExceeded: (region) => `Quota 'CPUS' exceeded.  Limit: 24.0 in region ${region}.`,
};

/** How an operation ended badly: one `error.errors[]` entry plus the HTTP status GCE reports with it. */
export class OperationFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = 'OperationFailure';
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'BAD REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION FAILED',
  429: 'TOO MANY REQUESTS',
  500: 'INTERNAL SERVER ERROR',
  503: 'SERVICE UNAVAILABLE',
};

export function httpStatusText(code: number): string {
  return STATUS_TEXT[code] ?? 'ERROR';
}
