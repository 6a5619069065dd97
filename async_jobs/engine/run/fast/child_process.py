"""The supervisor's side of one fast-worker child: the socket it talks over, reaping and killing it."""

import os
import select
import signal
import socket


class ChildProcess:
	"""One child process, as the supervisor sees it."""

	def __init__(self, pid: int, sock: socket.socket):
		self.pid, self.sock, self.jobs = pid, sock, 0
		self.buffer = b""
		self.status: int | None = None

	def send(self, text: str) -> None:
		self.sock.sendall(f"{text}\n".encode())

	def read_line(self, timeout: float) -> bytes | None:
		"""The child's next line; None while it has not answered; b"" when it is gone."""
		while b"\n" not in self.buffer:
			ready, _, _ = select.select([self.sock], [], [], timeout)
			if not ready:
				return None
			chunk = self.sock.recv(4096)
			if not chunk:
				return b""
			self.buffer += chunk
		line, self.buffer = self.buffer.split(b"\n", 1)
		return line

	def reap(self, block: bool = True) -> int | None:
		if self.status is None:
			try:
				pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
			except ChildProcessError:
				pid, status = self.pid, 0
			if pid:
				self.status = status
				self.sock.close()
		return self.status

	def kill(self) -> None:
		try:
			os.killpg(self.pid, signal.SIGKILL)  # the child leads its own session: take its subprocesses too
		except OSError:
			try:
				os.kill(self.pid, signal.SIGKILL)
			except OSError:
				pass
