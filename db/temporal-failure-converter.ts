// The failure converter of every Tessera client, worker and workflow bundle, loaded by path
// (DataConverter.failureConverterPath): a failure's message and stack trace travel in its encoded attributes, a
// payload the tenant payload codec encrypts, so an error text (a provider's answer, a prompt quoted back) is no
// more in clear in Temporal than the prompt itself. Temporal's UI and CLI show "Encoded failure" until they
// decode through the codec server. Failures written before (plain messages) still read as they are.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
