// Reads a history exported as JSON (`temporal workflow show --output json`) into the History object
// Worker.runReplayHistories takes. The SDK's own historyFromJSON fails in this install ("type must be a
// Type"): @temporalio/common and @temporalio/proto each bring their own protobufjs 8, and the common copy's
// JSON reader does not recognise types built by the proto copy. This reads with the proto copy's reader.
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fromJson } = require('@temporalio/proto/node_modules/protobufjs/ext/protojson') as { fromJson: (type: unknown, json: unknown, options: unknown) => unknown };
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyFromCliJson(json: unknown): proto.temporal.api.history.v1.IHistory {
  const history = fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history as proto.temporal.api.history.v1.IHistory;
}
