// colab-local's file picker for google.colab.files.upload: the kernel asks
// _uploadFiles(inputId, outputId) once (it resolves when files are chosen), then
// _uploadFilesContinue(outputId) until it answers {action: "complete"}; each
// {action: "append", file, data} carries a base64 piece of a file.
(function () {
  const PIECE_BYTES = 512 * 1024;
  const uploads = {};
  const colab = (window.google = window.google || {}).colab = window.google.colab || {};

  async function* pieces(files, outputElement) {
    for (const file of files) {
      const item = document.createElement("li");
      item.textContent = `${file.name} (${file.size} bytes)`;
      outputElement.appendChild(item);
      yield {action: "starting", file: file.name};
      for (let start = 0; start < file.size; start += PIECE_BYTES) {
        const bytes = new Uint8Array(await file.slice(start, start + PIECE_BYTES).arrayBuffer());
        let binary = "";
        for (let i = 0; i < bytes.length; i += 0x8000) {
          binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
        }
        yield {action: "append", file: file.name, data: btoa(binary)};
      }
    }
    yield {action: "complete"};
  }

  colab._files = {
    _uploadFiles(inputId, outputId) {
      const input = document.getElementById(inputId);
      const outputElement = document.getElementById(outputId);
      input.disabled = false;
      outputElement.textContent = "";
      return new Promise((resolve) => {
        input.addEventListener("change", () => {
          uploads[outputId] = pieces(Array.from(input.files), outputElement);
          input.disabled = true;
          resolve({action: "starting"});
        });
      });
    },
    async _uploadFilesContinue(outputId) {
      const next = await uploads[outputId].next();
      return next.done ? {action: "complete"} : next.value;
    },
  };
})();
