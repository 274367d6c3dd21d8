// Messages for people: refused fields by name with the API's reason, statuses without an API answer as what
// they mean, and a lost connection as one plain sentence.
import { describe, expect, test } from 'vitest';
import { ApiError } from './client';
import { describeError, describeRequest, describeRunError, describeStatus, fieldLabel } from './error-messages';

describe('describeError', () => {
  test('a refused field is named, with the API’s reason, not "invalid request body"', () => {
    const err = new ApiError(400, 'VALIDATION_FAILED', 'invalid request body', {
      issues: [{ path: 'body.password', message: 'the password needs at least 8 characters', code: 'too_small' }],
    });
    expect(describeError(err)).toBe('Password: the password needs at least 8 characters.');
  });

  test('several issues read as sentences, camel-cased fields spelled out', () => {
    const err = new ApiError(400, 'VALIDATION_FAILED', 'invalid request body', {
      issues: [
        { path: 'body.baseUrl', message: 'the base URL must be an http:// or https:// URL' },
        { path: 'body.name', message: 'a credential needs a name' },
      ],
    });
    expect(describeError(err)).toBe('Base URL: the base URL must be an http:// or https:// URL. Name: a credential needs a name.');
    expect(fieldLabel('query.actorId')).toBe('Actor id');
  });

  test('an API message without issues is shown as the API wrote it', () => {
    expect(describeError(new ApiError(409, 'LAST_OWNER', 'a tenant needs at least one owner'))).toBe('a tenant needs at least one owner');
  });

  test('a lost connection is one sentence', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toMatch(/^Could not reach the Tessera API/);
    expect(describeError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe("Cannot read properties of undefined (reading 'id')");
  });
});

describe('describeStatus', () => {
  test('"PUT … failed with 502" becomes what happened and what to do', () => {
    const text = describeStatus(502, describeRequest('PUT', '/api/v1/workflows/0b7c2d1e-1111-4222-8333-944455556666'));
    expect(text).toBe('Saving the workflow failed: the Tessera API is not answering (HTTP 502). It may be restarting; try again in a moment.');
    expect(text).not.toContain('/api/v1');
  });

  test('other statuses', () => {
    expect(describeStatus(500, describeRequest('DELETE', '/api/v1/api-keys/x'))).toMatch(/^Deleting the api key failed: the server hit an error/);
    expect(describeStatus(413, describeRequest('POST', '/api/v1/executions'))).toBe('Creating the execution failed: what was sent is too large for the server.');
    expect(describeRequest('POST', '/api/v1/auth/register')).toBe('Signing in');
  });
});

describe('describeRunError', () => {
  test('says where a run failed and what its code means, before the API’s own words', () => {
    expect(describeRunError({ code: 'PROVIDER_ERROR', message: 'OpenAI API answered 401: Incorrect API key provided', nodeId: 'ask' })).toBe(
      'At ask: The model provider refused the call: OpenAI API answered 401: Incorrect API key provided.',
    );
    expect(describeRunError({ code: 'SOMETHING_NEW', message: 'the run was cancelled in Temporal.' })).toBe('The run was cancelled in Temporal.');
    expect(describeRunError(null)).toBe('');
  });
});
