"""One botocore data loader for the whole test process.

Every `mock_aws()` resets boto3's default session, and each new botocore session builds its own
loader, which parses the service's model and the endpoint rules from JSON again: about a tenth
of a second for every test that makes a client. The loader holds only botocore's own data files
(no credentials, no configuration), so one loader shared by every session changes nothing a
test can see, as a long-lived session shares its loader between its clients.
"""

import functools

import botocore.loaders
import botocore.session


def share_botocore_data() -> None:
    """Make every botocore session of this process share one loader per data path."""
    if botocore.session.create_loader is botocore.loaders.create_loader:
        botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)
